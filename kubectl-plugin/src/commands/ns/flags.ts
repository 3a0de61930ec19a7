/** Flags the namespace commands share. */
import { Option } from 'commander';
import { collect } from '../options.js';

/** `--include-resources` / `--exclude-resources`: comma-separated, repeatable type names. */
export function resourceListOption(which: 'include' | 'exclude'): Option {
  return new Option(
    `--${which}-resources <types>`,
    `${which === 'include' ? 'only' : 'leave out'} these resource types, comma-separated (deployments, secrets, certificates.cert-manager.io…; repeatable)`,
  ).argParser(collect);
}

export function selectorOption(): Option {
  return new Option(
    '-l, --selector <selector>',
    'only objects matching this label selector (app=web,tier!=db)',
  );
}
