// What the simulated registry serves for a model: a Docker-v2 style manifest
// with a config blob and layers (weights, template, license, params), as
// Ollama stores them. Small blobs have real content and real sha256 digests;
// so do weights up to MATERIALIZE_MAX_BYTES (a miniature catalog's); larger
// weights are described only (digest derived from the name, size from the
// catalog) and written as sparse files.
import { createCipheriv, createHash } from 'node:crypto';
import type { ModelFacts } from '../../schema/fleet.ts';
import { formatParameterSize } from './go-format.ts';

export const MEDIA_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MEDIA_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const MEDIA_MODEL = 'application/vnd.ollama.image.model';
export const MEDIA_TEMPLATE = 'application/vnd.ollama.image.template';
export const MEDIA_LICENSE = 'application/vnd.ollama.image.license';
export const MEDIA_PARAMS = 'application/vnd.ollama.image.params';
export const MEDIA_SYSTEM = 'application/vnd.ollama.image.system';
export const MEDIA_MESSAGES = 'application/vnd.ollama.image.messages';
/** Older manifests call the template a prompt. */
export const MEDIA_PROMPT = 'application/vnd.ollama.image.prompt';

export interface LayerPlan {
  mediaType: string;
  /** `sha256:<64 hex>` */
  digest: string;
  size: number;
  /** Exact bytes for small blobs; absent for the weights (a sparse file of `size`). */
  content?: Buffer;
}

export interface ModelPlan {
  config: LayerPlan;
  layers: LayerPlan[];
  /** The manifest file's bytes. */
  manifest: Buffer;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function blob(mediaType: string, content: Buffer): LayerPlan {
  return { mediaType, digest: `sha256:${sha256(content)}`, size: content.length, content };
}

/** Chat template by model family, close to the library's. */
function templateFor(ref: string, facts: ModelFacts): string | undefined {
  if (facts.kind === 'embedding') return undefined;
  if (ref.startsWith('llama3')) {
    return '{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}'
      + '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}'
      + '<|start_header_id|>assistant<|end_header_id|>\n\n';
  }
  if (facts.architecture.startsWith('qwen')) {
    return '{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
      + '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n';
  }
  return '{{- range $i, $_ := .Messages }}{{- if eq .Role "user" }}[INST] {{ .Content }}[/INST]{{- else }} {{ .Content }}</s>{{- end }}{{- end }}';
}

function paramsFor(ref: string, facts: ModelFacts): Record<string, unknown> {
  if (facts.kind === 'embedding') return { num_ctx: facts.max_context };
  if (ref.startsWith('llama3')) return { stop: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] };
  if (facts.architecture.startsWith('qwen')) return { stop: ['<|im_start|>', '<|im_end|>'] };
  return { stop: ['[INST]', '[/INST]'] };
}

/** A license text of a realistic length; shared by every tag of a family, as upstream. */
function licenseFor(ref: string): string {
  const family = ref.split(':')[0] ?? ref;
  const head = `${family} license (simulated registry copy)\n\n`;
  const clause = 'Redistribution and use of the model weights are governed by the upstream license of this model family. ';
  return head + clause.repeat(Math.ceil(6000 / clause.length)) + '\n';
}

/** The config blob Ollama writes beside the layers; /api/tags and /api/show read their details from it. */
function configFor(facts: ModelFacts, diffIds: string[]): Buffer {
  return Buffer.from(JSON.stringify({
    model_format: 'gguf',
    model_family: facts.architecture,
    model_families: [facts.architecture],
    model_type: formatParameterSize(facts.parameters_b),
    file_type: facts.quantization,
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds },
  }));
}

/**
 * Weights up to this size get real bytes (a keystream derived from the
 * model's name) and the real sha256 of them as their digest, so a LAN copy
 * can verify them; above it they are sparse placeholders with a made-up
 * digest, as before (a 42 GB model costs no disk).
 */
export const MATERIALIZE_MAX_BYTES = 64 * 1024 * 1024;

// A cache of deterministic content, not state: the same ref and size always give the same bytes.
const weightsCache = new Map<string, Buffer>();

function weightsContent(ref: string, facts: ModelFacts, size: number): Buffer {
  const key = `${ref} ${facts.quantization} ${size}`;
  let content = weightsCache.get(key);
  if (content === undefined) {
    const seed = createHash('sha256').update(`simulated weights ${key}`).digest();
    const cipher = createCipheriv('aes-128-ctr', seed.subarray(0, 16), seed.subarray(16, 32));
    content = Buffer.concat([Buffer.from('GGUF'), cipher.update(Buffer.alloc(Math.max(0, size - 4))), cipher.final()]).subarray(0, size);
    weightsCache.set(key, content);
  }
  return content;
}

export function planModel(ref: string, facts: ModelFacts): ModelPlan {
  const template = templateFor(ref, facts);
  const small: LayerPlan[] = [];
  if (template !== undefined) small.push(blob(MEDIA_TEMPLATE, Buffer.from(template)));
  small.push(blob(MEDIA_LICENSE, Buffer.from(licenseFor(ref))));
  small.push(blob(MEDIA_PARAMS, Buffer.from(JSON.stringify(paramsFor(ref, facts)))));
  // The config depends on the layer digests, and the weights' size on the config's: size it with a placeholder first.
  const placeholderDigest = `sha256:${sha256(`simulated weights ${ref} ${facts.quantization} ${facts.size_bytes}`)}`;
  const placeholderConfig = blob(MEDIA_CONFIG, configFor(facts, [placeholderDigest, ...small.map((l) => l.digest)]));
  const smallBytes = small.reduce((n, l) => n + l.size, 0) + placeholderConfig.size;
  const weightsSize = Math.max(1, facts.size_bytes - smallBytes);
  const content = weightsSize <= MATERIALIZE_MAX_BYTES ? weightsContent(ref, facts, weightsSize) : undefined;
  const weights: LayerPlan = content === undefined
    ? { mediaType: MEDIA_MODEL, digest: placeholderDigest, size: weightsSize }
    : { mediaType: MEDIA_MODEL, digest: `sha256:${sha256(content)}`, size: weightsSize, content };
  // A real digest has as many characters as the placeholder's, so the config keeps its size.
  const config = blob(MEDIA_CONFIG, configFor(facts, [weights.digest, ...small.map((l) => l.digest)]));
  const layers: LayerPlan[] = [weights, ...small];
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_MANIFEST,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
  return { config, layers, manifest };
}

/** model.ConfigV2, the config blob (fields may be absent or null in what is on disk). */
export interface ModelConfig {
  model_format?: string | undefined;
  model_family?: string | undefined;
  model_families?: string[] | null | undefined;
  model_type?: string | undefined;
  file_type?: string | undefined;
  renderer?: string | undefined;
  parser?: string | undefined;
  requires?: string | undefined;
  capabilities?: string[] | undefined;
  context_length?: number | undefined;
  embedding_length?: number | undefined;
  base_name?: string | undefined;
}

export interface ManifestDoc {
  config: { mediaType: string; digest: string; size: number };
  layers: Array<{ mediaType: string; digest: string; size: number; from?: string }>;
}

/** `sha256:abc` -> blobs/sha256-abc, Ollama's file name for a blob. */
export function blobFileName(digest: string): string {
  return digest.replace(':', '-');
}
