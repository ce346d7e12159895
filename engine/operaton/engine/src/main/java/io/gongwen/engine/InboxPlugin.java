// Engine plugin: every user task and every process instance reports to the app's inbox functions.
package io.gongwen.engine;

import java.util.ArrayList;
import org.operaton.bpm.engine.delegate.ExecutionListener;
import org.operaton.bpm.engine.delegate.TaskListener;
import org.operaton.bpm.engine.impl.bpmn.behavior.UserTaskActivityBehavior;
import org.operaton.bpm.engine.impl.bpmn.parser.BpmnParseListener;
import org.operaton.bpm.engine.impl.cfg.AbstractProcessEnginePlugin;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.persistence.entity.ProcessDefinitionEntity;
import org.operaton.bpm.engine.impl.pvm.process.ActivityImpl;
import org.operaton.bpm.engine.impl.pvm.process.ScopeImpl;
import org.operaton.bpm.engine.impl.task.TaskDefinition;
import org.operaton.bpm.engine.impl.util.xml.Element;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Attaches the inbox listeners at parse time, so no BPMN file has to name them and a model
 * drawn by a user cannot leave them out. They are built-in listeners: a caller passing
 * skipCustomListeners=true (instance modification, deletion) still keeps the inbox in step.
 */
@Component
public class InboxPlugin extends AbstractProcessEnginePlugin {

  private final InboxListeners listeners;

  public InboxPlugin(@Value("${gongwen.app.schema}") String appSchema) {
    this.listeners = new InboxListeners(EngineSchema.identifier("GONGWEN_APP_SCHEMA", appSchema));
  }

  @Override
  public void preInit(ProcessEngineConfigurationImpl configuration) {
    if (configuration.getCustomPreBPMNParseListeners() == null) {
      configuration.setCustomPreBPMNParseListeners(new ArrayList<>());
    }
    configuration.getCustomPreBPMNParseListeners().add(new BpmnParseListener() {
      @Override
      public void parseUserTask(Element element, ScopeImpl scope, ActivityImpl activity) {
        // For a multi-instance task this is the inner activity, so each instance reports.
        TaskDefinition task = ((UserTaskActivityBehavior) activity.getActivityBehavior()).getTaskDefinition();
        task.addBuiltInTaskListener(TaskListener.EVENTNAME_CREATE, listeners.taskCreated);
        task.addBuiltInTaskListener(TaskListener.EVENTNAME_ASSIGNMENT, listeners.taskAssigned);
        task.addBuiltInTaskListener(TaskListener.EVENTNAME_COMPLETE, listeners.taskCompleted);
        task.addBuiltInTaskListener(TaskListener.EVENTNAME_DELETE, listeners.taskDeleted);
      }

      @Override
      public void parseProcess(Element element, ProcessDefinitionEntity process) {
        process.addBuiltInListener(ExecutionListener.EVENTNAME_END, listeners.instanceEnded);
      }
    });
  }
}
