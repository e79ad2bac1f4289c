// One cleanup path for partial failures (Go's `defer if retErr != nil`): each step that
// creates something pushes its undo; on failure they run newest first, and every undo runs
// even if another fails.
import type { Logger } from "../log.js";

export class UndoStack {
  private readonly steps: { what: string; fn: () => Promise<unknown> }[] = [];

  push(what: string, fn: () => Promise<unknown>): void {
    this.steps.push({ what, fn });
  }

  /** Forget the steps: the operation succeeded. */
  commit(): void {
    this.steps.length = 0;
  }

  /** Runs every undo, newest first; returns the errors it met (already logged). */
  async run(logger: Logger, context: Record<string, string>): Promise<Error[]> {
    const errors: Error[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.fn();
      } catch (e) {
        errors.push(e as Error);
        logger.error(`cleanup failed: ${step.what}`, { ...context, error: (e as Error).message });
      }
    }
    return errors;
  }
}

/**
 * The one rollback pattern (RunPodSandbox, CreateContainer): fn pushes an undo for each
 * thing it makes; when fn returns they are forgotten, when it throws they all run, newest
 * first, before its error goes on.
 */
export async function withUndo<T>(logger: Logger, context: Record<string, string>, fn: (undo: UndoStack) => Promise<T>): Promise<T> {
  const undo = new UndoStack();
  try {
    const out = await fn(undo);
    undo.commit();
    return out;
  } catch (e) {
    await undo.run(logger, context);
    throw e;
  }
}
