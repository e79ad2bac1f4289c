// PullImage: pulls through containerd's Transfer service (src/image/image-puller.ts) and
// answers the image id. The pull is cancelled when kubelet cancels the call, unless
// another caller still waits for the same reference.
import type { Config } from "../config.js";
import { invalidArgument } from "../errors.js";
import type { Images } from "./images.js";
import type { ImageHandlers } from "../common/deps.js";

export function pullImage(config: Config, images: Images): ImageHandlers["pullImage"] {
  return async (req, call) => {
    const handler = req.image?.runtimeHandler ?? "";
    // CRI requires the request to be rejected if the runtime handler is unknown.
    if (handler !== "" && !config.runtimes[handler]) throw invalidArgument(`unknown runtime handler ${JSON.stringify(handler)}`);
    const cancelled = new AbortController();
    const onCancel = () => cancelled.abort();
    call.on("cancelled", onCancel);
    try {
      const image = await images.puller.pull(req.image?.image ?? "", { auth: req.auth, signal: cancelled.signal });
      return { imageRef: image.id };
    } finally {
      call.off("cancelled", onCancel);
    }
  };
}
