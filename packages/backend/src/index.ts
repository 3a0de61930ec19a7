/**
 * The portal's Backstage backend: auth (guest sign-in for development), catalog, permissions
 * (allow-all policy: replace it with your own) and the backup plugin. Configured by the root
 * app-config.yaml (plus app-config.local.yaml, or `--config FILE`).
 *
 * This package is ESM; Backstage's plugins are CommonJS, whose default export arrives in ESM as
 * `module.default` (hence the `.default`s). Our plugin is ESM and loads lazily as usual.
 */
import { createBackend } from '@backstage/backend-defaults';
import authBackend from '@backstage/plugin-auth-backend';
import guestProvider from '@backstage/plugin-auth-backend-module-guest-provider';
import catalogBackend from '@backstage/plugin-catalog-backend';
import permissionBackend from '@backstage/plugin-permission-backend';
import allowAllPolicy from '@backstage/plugin-permission-backend-module-allow-all-policy';

const backend = createBackend();
backend.add(authBackend.default);
backend.add(guestProvider.default);
backend.add(catalogBackend.default);
backend.add(permissionBackend.default);
backend.add(allowAllPolicy.default);
backend.add(import('@kubectl-backup/plugin-backup-backend'));
await backend.start();
