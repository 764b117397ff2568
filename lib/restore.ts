// What a command changed and has not put back yet, each as the exact command a
// person can run to restore it. Rollbacks register here before they are due and
// leave once they ran; if the process is forced to exit (a second Ctrl-C), the CLI
// prints whatever is still here, so nothing is left changed without saying how to undo it.

const pending = new Map<number, string>();
let next = 0;

/** Register a restore command; call the returned function once the restore has run. */
export function pendingRestore(command: string): () => void {
  const id = next++;
  pending.set(id, command);
  return () => void pending.delete(id);
}

/** The restores still pending, newest first (the order they should be run in). */
export function pendingRestores(): string[] {
  return [...pending.values()].reverse();
}
