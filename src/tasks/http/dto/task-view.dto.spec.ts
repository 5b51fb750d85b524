import { TaskRun } from '../../records/entities/task-run.entity';
import { TaskState } from '../../task-state';
import { toTaskView } from '../../records/task-view';
import { TaskViewDto } from './task-view.dto';

// The document's TaskViewDto must describe what toTaskView returns: a field added to one and not
// the other would make generated clients miss it, or expect what never comes.
it('TaskViewDto documents exactly the fields of toTaskView', () => {
  const documented = (Reflect.getMetadata('swagger/apiModelPropertiesArray', TaskViewDto.prototype) as string[]).map(
    (key) => key.slice(1),
  );
  const run = Object.assign(new TaskRun(), { id: 'x', name: 'tasks.system.noop', state: TaskState.PENDING, args: {} });
  expect(documented.sort()).toEqual(Object.keys(toTaskView(run)).sort());
});
