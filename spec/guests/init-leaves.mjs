// PID 1 for spec/core.run.test.ts: starts a child that would live forever, waits until the
// child has claimed its pid, prints the child's host pid, and exits with the status in argv[2].
// The child (argv[2] === "child") says "ready HOSTPID" on stdout and sleeps.
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Guest } from "../../dist/src/client/guest.js";

const self = fileURLToPath(import.meta.url);
const g = await Guest.connect();
if (process.argv[2] === "child") {
  process.stdout.write(`ready ${process.pid}\n`);
  setInterval(() => {}, 1 << 30);
} else {
  const status = Number(process.argv[2] ?? 0);
  const { pid, child } = await g.fork(self, ["child"], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
  process.stdout.write(`init ${g.getpid()} child ${pid} host ${String(line).split(" ")[1]}\n`);
  await g.exit(status);
}
