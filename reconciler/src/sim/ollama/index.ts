// The simulated Ollama of one simulated Mac: what the fleet simulator uses.
import { fileURLToPath } from 'node:url';

export { SIM_OLLAMA_VERSION, createSimOllama } from './sim-ollama.ts';
export type { SimOllama, SimOllamaFault, SimOllamaOptions, StoredModelInfo } from './sim-ollama.ts';
export { SimOllamaServer } from './sim-ollama-server.ts';
export type { SimOllamaServerOptions } from './sim-ollama-server.ts';
export { bindTargetsFor, parseOllamaHost, DEFAULT_OLLAMA_PORT } from './serve-env.ts';
export type { BindTargets, ServeEnv } from './serve-env.ts';
export { loadModelCatalog, DEFAULT_CATALOG_PATH } from './catalog.ts';
export type { ModelCatalog } from './catalog.ts';
export type { LoadedModel, SimHardware } from './loaded-models.ts';
export { formatHumanBytes } from './go-format.ts';

/** The `ollama` command stand-in (POSIX sh); `brew install ollama` links the node's <prefix>/bin/ollama to it. */
export const OLLAMA_CLI_PATH = fileURLToPath(new URL('./bin/ollama', import.meta.url));
