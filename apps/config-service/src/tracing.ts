// main.ts's first import: the SDK must patch http before Nest loads it, so nothing else is
// imported here (config.ts would load Nest; hence the name as a literal).
import { startTracing } from '@pacslink/platform/tracing';

startTracing('config-service');
