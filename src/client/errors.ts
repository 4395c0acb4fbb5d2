import { errnoName } from "../protocol/errno.js";

/** A call failed with an errno, as the syscall would have. */
export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly detail?: string,
  ) {
    super(`${call}: ${errnoName(errno)}${detail ? ` (${detail})` : ""}`);
    this.name = "SyscallError";
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

/** The daemon closed the connection or could not be reached. */
export class DaemonGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DaemonGoneError";
  }
}
