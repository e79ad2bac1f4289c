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
  return dropDisabledLevels(
    winston.createLogger({
      level,
      format: fmt,
      transports: [new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) })],
    }),
  );
}

/**
 * winston formats every entry (timestamp, JSON) before its transports drop the ones below
 * their level: a debug line per read RPC cost more than the RPC. Entries of a level that
 * is off now return at once; the level stays changeable (`logger.level = ...`).
 */
function dropDisabledLevels(logger: Logger): Logger {
  // `this` is kept: a child logger (Object.create of this one) still writes through its own write.
  type LogFn = (this: Logger, ...args: unknown[]) => Logger;
  const methods = logger as unknown as Record<string, LogFn>;
  const log = methods["log"]!;
  methods["log"] = function (this: Logger, level: unknown, ...rest: unknown[]) {
    const name = typeof level === "string" ? level : (level as { level?: unknown } | null)?.level;
    if (typeof name === "string" && !this.isLevelEnabled(name)) return this;
    return log.call(this, level, ...rest);
  };
  for (const name of Object.keys(logger.levels)) {
    const method = methods[name];
    if (typeof method !== "function") continue;
    methods[name] = function (this: Logger, ...args: unknown[]) {
      return this.isLevelEnabled(name) ? method.apply(this, args) : this;
    };
  }
  return logger;
}

/** A logger for tests and library use that writes nothing. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
