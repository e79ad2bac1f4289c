// UpdateRuntimeConfig: the kubelet hands over the node's pod CIDR(s). As containerd's CRI:
// nothing to do without [cni] conf_template, or while a CNI config already loads from
// conf_dir (another component manages the network); otherwise the template is rendered
// with the CIDRs and their default routes into conf_dir, where the next pod finds it.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { failedPrecondition, invalidArgument, messageOf } from "../errors.js";
import { loadCniConfig } from "../network/cni-config.js";
import { invalidateCniConfig } from "../network/cni-config-cache.js";
import { cniTemplateData, renderCniTemplate, TemplateError } from "../network/cni-conf-template.js";
import type { CriDeps, RuntimeHandlers } from "../common/deps.js";

/** The file crib writes (containerd writes 10-containerd-net.conflist). */
export const GENERATED_CNI_CONF = "10-crib-net.conflist";

export function updateRuntimeConfig(deps: CriDeps): RuntimeHandlers["updateRuntimeConfig"] {
  const { config, logger } = deps;
  return async (req) => {
    const podCidr = req.runtimeConfig?.networkConfig?.podCidr ?? "";
    if (podCidr.trim() === "") return {};
    let data;
    try {
      data = cniTemplateData(podCidr);
    } catch (e) {
      throw invalidArgument(`pod CIDR ${JSON.stringify(podCidr)}: ${messageOf(e)}`);
    }
    if (config.cniConfTemplate === "") {
      logger.info("no cni conf_template is configured; waiting for another component to write the CNI config", { podCidr });
      return {};
    }
    if ((await loadCniConfig(config.cniConfDir)).config) {
      logger.info("a CNI config is already loaded; not generating one from the template", { template: config.cniConfTemplate });
      return {};
    }
    let rendered: string;
    try {
      rendered = renderCniTemplate(await readFile(config.cniConfTemplate, "utf8"), data);
      JSON.parse(rendered);
    } catch (e) {
      const why = e instanceof TemplateError || e instanceof SyntaxError ? messageOf(e) : `cannot read it: ${messageOf(e)}`;
      throw failedPrecondition(`failed to generate CNI config from template ${JSON.stringify(config.cniConfTemplate)}: ${why}`);
    }
    await mkdir(config.cniConfDir, { recursive: true, mode: 0o755 });
    const file = join(config.cniConfDir, GENERATED_CNI_CONF);
    // Written whole, then renamed: the CNI loader never reads half a file.
    await writeFile(`${file}.tmp`, rendered, { mode: 0o644 });
    await rename(`${file}.tmp`, file);
    invalidateCniConfig(config.cniConfDir);
    logger.info("generated CNI config from template", { file, template: config.cniConfTemplate, podCidr: data.PodCIDRRanges.join(",") });
    return {};
  };
}
