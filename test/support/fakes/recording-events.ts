// TaskEvents that keeps every warning.
import type { TaskEvents, TaskRef } from '../../../src/contracts.ts';

export class RecordingEvents implements TaskEvents {
  readonly warnings: Array<{ task: TaskRef; reason: string; message: string }> = [];

  warning(task: TaskRef, reason: string, message: string): void {
    this.warnings.push({ task, reason, message });
  }
}
