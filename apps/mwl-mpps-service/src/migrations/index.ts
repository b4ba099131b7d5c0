import { messagingMigrations } from '@pacslink/messaging';
import { CreateWorklistTasks1765000000000 } from './1765000000000-CreateWorklistTasks';
import { AddTaskMpps1765100000000 } from './1765100000000-AddTaskMpps';

/** Every migration of mwl-mpps-service's schema, oldest first. Append only. */
export const mwlMppsMigrations = [
  ...messagingMigrations,
  CreateWorklistTasks1765000000000,
  AddTaskMpps1765100000000,
];
