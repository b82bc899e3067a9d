// One sentence per step, for people: the renderers, apply's progress lines and logs.
import { formatBytes } from './manual-steps.ts';
import { assertNever, type Step } from '../model/steps.ts';

const MANUAL_TITLE = {
  'ssh-bootstrap': 'Bootstrap SSH by hand (Remote Login and Bob\'s key)',
  'sudo-password': 'Run a command that needs the admin password by hand',
  'harpa-setup': 'Finish the HARPA AI setup in Chrome by hand',
  'launchd-domain': 'Log in at the console so launchd can run the agent',
  'hardware-mismatch': 'Resolve the hardware mismatch in fleet/',
  'host-key': 'Check and pin the SSH host key',
  'disk-space': 'Free disk space for the models',
} as const;

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'set-hostname': return `Set ComputerName to ${step.computer_name}, HostName to ${step.host_name} and LocalHostName to ${step.local_host_name}.`;
    case 'install-homebrew': return `Install Homebrew at ${step.prefix}.`;
    case 'install-package': return `Install the Homebrew ${step.package} ${step.name}.`;
    case 'uninstall-package': return `Uninstall the Homebrew ${step.package} ${step.name}.`;
    case 'make-dirs': return `Create ${step.paths.join(', ')}.`;
    case 'write-file': return `Write ${step.path} (${step.content.length} bytes, mode ${step.mode.toString(8)}).`;
    case 'install-secret': return `Install the node's heartbeat key ${step.path} (mode 600, key id ${step.key_id.slice(0, 12)}).`;
    case 'stop-brew-service': return `Stop the Homebrew service ${step.name}.`;
    case 'load-agent': return step.reload ? `Reload the launchd agent ${step.label} with its new plist.` : `Load and start the launchd agent ${step.label}.`;
    case 'restart-agent': return `Restart the launchd agent ${step.label}.`;
    case 'unload-agent': return `Unload the launchd agent ${step.label} and delete ${step.plist_path}.`;
    case 'pull-model': {
      const size = step.bytes > 0 ? ` (${formatBytes(step.bytes)})` : '';
      const lan = step.lan_targets !== undefined && step.lan_targets.length > 0 ? `, then serve it to ${step.lan_targets.join(', ')} over the LAN` : '';
      return `Pull the model ${step.model}${size} from the internet${step.cache === true ? ' as the fleet\'s cache' : ''}${lan}.`;
    }
    case 'copy-model': return `Copy the model ${step.model}${step.bytes > 0 ? ` (${formatBytes(step.bytes)})` : ''} from ${step.source} over the LAN${step.fallback === 'internet' ? ' (an internet pull if no peer can serve it)' : ''}.`;
    case 'remove-model': return `Remove the model ${step.model}${step.bytes > 0 ? ` (frees ${formatBytes(step.bytes)})` : ''}.`;
    case 'set-crontab': return step.line === null ? 'Remove the heartbeat line from the crontab.' : `Set the heartbeat crontab line: ${step.line}`;
    case 'register': return `Register the node with Bob's registry API (${step.url}).`;
    case 'write-generated': return `Write ${step.files.join(' and ')} on Bob.`;
    case 'reload-openclaw': return 'Send OpenClaw SIGHUP so it rereads its workers.';
    case 'manual': return `${MANUAL_TITLE[step.reason]}.`;
    default: return assertNever(step);
  }
}

/** What a step does to its node: adds, changes or removes something, or needs a person. */
export type StepEffect = 'add' | 'change' | 'remove' | 'manual';

export function effectOf(step: Step): StepEffect {
  switch (step.kind) {
    case 'install-homebrew':
    case 'install-package':
    case 'make-dirs':
    case 'pull-model':
    case 'copy-model':
      return 'add';
    case 'set-hostname':
    case 'write-file':
    case 'install-secret':
    case 'load-agent':
    case 'restart-agent':
    case 'set-crontab':
    case 'register':
    case 'write-generated':
    case 'reload-openclaw':
      return 'change';
    case 'uninstall-package':
    case 'stop-brew-service':
    case 'unload-agent':
    case 'remove-model':
      return 'remove';
    case 'manual':
      return 'manual';
    default:
      return assertNever(step);
  }
}
