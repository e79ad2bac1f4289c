// crib's own CRI client for tests and benchmarks: typed RuntimeService and ImageService
// clients over a unix socket, built from the same generated schemas as the server.
import * as grpc from "@grpc/grpc-js";
import { ImageService, RuntimeService } from "../../src/gen/runtime/v1/api_pb.js";
import { createServiceClient, type ServiceClient } from "../../src/rpc/proto-service.js";

export interface CriClient {
  runtime: ServiceClient<typeof RuntimeService.method>;
  image: ServiceClient<typeof ImageService.method>;
  close(): void;
}

export function connectCri(socketPath: string, timeoutMs = 120_000): CriClient {
  const client = new grpc.Client(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 16 << 20,
  });
  const hooks = { defaultTimeoutMs: timeoutMs, metadata: () => new grpc.Metadata(), observe: () => {} };
  return {
    runtime: createServiceClient(RuntimeService, client, hooks) as ServiceClient<typeof RuntimeService.method>,
    image: createServiceClient(ImageService, client, hooks) as ServiceClient<typeof ImageService.method>,
    close: () => client.close(),
  };
}

/** The gRPC status code of a failed call (for assertions). */
export async function codeOfCall(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    return (e as grpc.ServiceError).code;
  }
  return grpc.status.OK;
}
