// A GetContainerEvents client in a process of its own, for events-stream.test.ts: the test
// stops it with SIGSTOP (a hung kubelet: nothing is read, no HTTP/2 window is granted) and
// resumes it with SIGCONT. It prints "subscribed", then one JSON line when its stream ends.
import * as grpc from "@grpc/grpc-js";
import { connectCri } from "../client/cri-client.js";

const client = connectCri(process.argv[2]!);
let received = 0;
process.stdout.write("subscribed\n");
try {
  for await (const _event of client.runtime.getContainerEvents({}, { timeoutMs: 0 })) received++;
  process.stdout.write(JSON.stringify({ received, code: grpc.status.OK }) + "\n");
} catch (e) {
  const err = e as grpc.ServiceError;
  process.stdout.write(JSON.stringify({ received, code: err.code, details: err.details }) + "\n");
}
client.close();
