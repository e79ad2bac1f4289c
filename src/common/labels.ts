// The kind label containerd's CRI puts on every container record it makes (crilabels
// ContainerKindLabel): pods and containers are told apart by it in containerd's lists.
export const KIND_LABEL = "io.cri-containerd.kind";
export const KIND_SANDBOX = "sandbox";
export const KIND_CONTAINER = "container";
