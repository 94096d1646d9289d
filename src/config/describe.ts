/**
 * Renders the configuration schema as a commented YAML file (every knob, its default and
 * its description): the output of `sluice generate-config`.
 */
import { ConfigSchema } from "./schema.js";

interface SchemaNode {
  type?: string;
  default?: unknown;
  description?: string;
  properties?: Record<string, SchemaNode>;
  anyOf?: { const?: unknown }[];
}

export function describeConfig(): string {
  const lines = ["# Sluice configuration. Every key is optional; the values shown are the defaults.", ""];
  render(ConfigSchema as unknown as SchemaNode, 0, lines);
  return lines.join("\n") + "\n";
}

function render(node: SchemaNode, depth: number, out: string[]): void {
  const pad = "  ".repeat(depth);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const choices = child.anyOf?.map((a) => a.const).filter((c) => c !== undefined);
    const about = [child.description, choices?.length ? `one of: ${choices.join(", ")}` : undefined].filter(Boolean).join("; ");
    if (child.properties && Object.keys(child.properties).some((k) => child.properties![k]!.properties || child.properties![k]!.type !== undefined || child.properties![k]!.anyOf)) {
      if (child.type === "object" && child.properties.perSecond) {
        out.push(`${pad}${key}: ${JSON.stringify(child.default ?? {})}${about ? `  # ${about}` : ""}`);
        continue;
      }
      out.push(`${pad}${key}:`);
      render(child, depth + 1, out);
      continue;
    }
    const value = child.default === undefined ? null : child.default;
    const line = value === null ? `${pad}# ${key}:` : `${pad}${key}: ${JSON.stringify(value)}`;
    out.push(about ? `${line}  # ${about}` : line);
  }
}
