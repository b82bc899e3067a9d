// What the simulated registry serves for a model: a Docker-v2 style manifest
// with a config blob and layers (weights, template, license, params), as
// Ollama stores them. Small blobs have real content and real sha256 digests;
// the weights are described only (digest derived from the name, size from the
// catalog) and written as sparse files.
import { createHash } from 'node:crypto';
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

export function planModel(ref: string, facts: ModelFacts): ModelPlan {
  const template = templateFor(ref, facts);
  const small: LayerPlan[] = [];
  if (template !== undefined) small.push(blob(MEDIA_TEMPLATE, Buffer.from(template)));
  small.push(blob(MEDIA_LICENSE, Buffer.from(licenseFor(ref))));
  small.push(blob(MEDIA_PARAMS, Buffer.from(JSON.stringify(paramsFor(ref, facts)))));
  // The config depends on the layer digests, and the weights' size on the config's: size it with a placeholder first.
  const weightsDigest = `sha256:${sha256(`simulated weights ${ref} ${facts.quantization} ${facts.size_bytes}`)}`;
  const diffIds = [weightsDigest, ...small.map((l) => l.digest)];
  const config = blob(MEDIA_CONFIG, configFor(facts, diffIds));
  const smallBytes = small.reduce((n, l) => n + l.size, 0) + config.size;
  const weightsSize = Math.max(1, facts.size_bytes - smallBytes);
  const layers: LayerPlan[] = [{ mediaType: MEDIA_MODEL, digest: weightsDigest, size: weightsSize }, ...small];
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
