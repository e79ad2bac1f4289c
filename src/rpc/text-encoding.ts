// protobuf-es encodes every string field with TextEncoder.encode, a native call that costs
// ~3 µs even for a 64-character container id: most of a ListContainers reply's encoding.
// Short ASCII strings (ids, names, labels) are copied byte by byte instead (~3x faster);
// anything else still goes through TextEncoder. Decoding and UTF-8 checks are unchanged.
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

const SHORT = 256;

export function installFastTextEncoding(): void {
  const base = getTextEncoding();
  const encoder = new TextEncoder();
  configureTextEncoding({
    checkUtf8: base.checkUtf8,
    decodeUtf8: base.decodeUtf8,
    encodeUtf8(text: string): Uint8Array<ArrayBuffer> {
      const n = text.length;
      if (n > SHORT) return encoder.encode(text);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) return encoder.encode(text);
        out[i] = c;
      }
      return out;
    },
  });
}

installFastTextEncoding();
