// TaskEvents that keeps every event, Warning and Normal.
import type { TaskEvents, TaskRef } from '../../../src/contracts.ts';

export interface RecordedEvent {
  task: TaskRef;
  reason: string;
  message: string;
}

export class RecordingEvents implements TaskEvents {
  readonly warnings: RecordedEvent[] = [];
  readonly normals: RecordedEvent[] = [];

  warning(task: TaskRef, reason: string, message: string): void {
    this.warnings.push({ task, reason, message });
  }

  normal(task: TaskRef, reason: string, message: string): void {
    this.normals.push({ task, reason, message });
  }
}
