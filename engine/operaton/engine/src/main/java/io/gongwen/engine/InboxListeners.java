// The inbox listeners: each calls one SQL function of the app schema on the engine's own connection.
package io.gongwen.engine;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Collections;
import java.util.TreeSet;
import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.delegate.DelegateTask;
import org.operaton.bpm.engine.delegate.ExecutionListener;
import org.operaton.bpm.engine.delegate.Expression;
import org.operaton.bpm.engine.delegate.TaskListener;
import org.operaton.bpm.engine.impl.context.Context;
import org.operaton.bpm.engine.impl.persistence.entity.TaskEntity;
import org.operaton.bpm.engine.impl.task.TaskDefinition;
import org.operaton.bpm.engine.task.IdentityLink;

/**
 * The functions run on the connection of the engine's current command, so an inbox row is
 * committed with the engine change that caused it or not at all: a failing function fails the
 * engine command, and the inbox never differs from the engine's open tasks at a commit.
 */
final class InboxListeners {

  private final String appSchema;

  InboxListeners(String appSchema) {
    this.appSchema = appSchema;
  }

  final TaskListener taskCreated = task -> call("gongwen_task_created",
      task.getId(),
      task.getProcessInstanceId(),
      task.getProcessDefinitionId(),
      task.getTenantId(),
      task.getTaskDefinitionKey(),
      task.getName(),
      formKey(task),
      candidateGroups(task),
      task.getAssignee(),
      task.getExecutionId(),
      documentId(task));

  // With an assignee expression the engine fires create first, then assignment: both arrive.
  final TaskListener taskAssigned = task -> call("gongwen_task_assigned", task.getId(), task.getAssignee());

  final TaskListener taskCompleted = task -> call("gongwen_task_completed", task.getId());

  // Fired only when a task ends without completion (moved, cancelled, interrupted), never after complete.
  final TaskListener taskDeleted = task -> call("gongwen_task_deleted", task.getId());

  final ExecutionListener instanceEnded = execution -> {
    // Attached to the process definition, so only the instance's own execution ends here; the
    // check keeps it that way should the engine ever report a scope through it.
    if (!execution.getId().equals(execution.getProcessInstanceId())) return;
    call("gongwen_instance_ended", execution.getProcessInstanceId(), execution.isCanceled());
  };

  /** DelegateTask.getFormKey() is not initialised inside a listener; evaluate the definition's. */
  private static String formKey(DelegateTask task) {
    TaskDefinition definition = ((TaskEntity) task).getTaskDefinition();
    Expression expression = definition == null ? null : definition.getFormKey();
    Object value = expression == null ? null : expression.getValue(task);
    return value == null ? null : value.toString();
  }

  /**
   * The candidate groups as the engine evaluated them (an expression may yield "a,b" or a list).
   * Sorted: the engine keeps a model's groups in a hash set, so their order carries no meaning.
   */
  private static String candidateGroups(DelegateTask task) {
    TreeSet<String> groups = new TreeSet<>();
    for (IdentityLink link : task.getCandidates()) {
      if (link.getGroupId() != null) groups.add(link.getGroupId());
    }
    return groups.isEmpty() ? null : String.join(",", groups);
  }

  private static String documentId(DelegateTask task) {
    Object value = task.getVariable("documentId");
    return value == null ? null : value.toString();
  }

  private void call(String function, Object... args) {
    String placeholders = String.join(",", Collections.nCopies(args.length, "?"));
    String sql = "select \"" + appSchema + "\"." + function + "(" + placeholders + ")";
    // Not closed here: the connection belongs to the engine's transaction.
    Connection connection = Context.getCommandContext().getDbSqlSession().getSqlSession().getConnection();
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        Object arg = args[i];
        if (arg == null) statement.setNull(i + 1, Types.VARCHAR);
        else if (arg instanceof Boolean flag) statement.setBoolean(i + 1, flag);
        else statement.setString(i + 1, arg.toString());
      }
      statement.execute();
    } catch (SQLException e) {
      // Rethrown so the engine rolls back its own change too.
      throw new ProcessEngineException(appSchema + "." + function + " failed: " + e.getMessage(), e);
    }
  }
}
