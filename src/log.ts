// Structured logging (winston): JSON by default, a readable text form for terminals.
import winston from "winston";

export type LogFormat = "json" | "text";
export type Logger = winston.Logger;

export function createLogger(level: string, format: LogFormat): Logger {
  const fmt =
    format === "json"
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp(),
          winston.format.printf(({ timestamp, level, message, ...rest }) => {
            const extra = Object.keys(rest).length ? " " + JSON.stringify(rest) : "";
            return `${String(timestamp)} ${level} ${String(message)}${extra}`;
          }),
        );
  // Logs go to stderr so stdout stays free for `--help` and the like.
  return winston.createLogger({
    level,
    format: fmt,
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) })],
  });
}

/** A logger for tests and library use that writes nothing. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
