/** Issue 4, scenarios 1–4, against compose v1 (the scenarios: sync-core.suite.ts). */
import { syncCoreSuite } from './sync-core.suite.js';

syncCoreSuite('compose v1', 'docker-compose');
