// Engine plugin: BPMN expressions can name one bean, json, and nothing else of the Spring context.
package io.gongwen.engine;

import java.util.Map;
import org.operaton.bpm.engine.impl.cfg.AbstractProcessEnginePlugin;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.el.JuelExpressionManager;
import org.springframework.stereotype.Component;

/**
 * By default every Spring bean (the DataSource, the engine's services) is reachable by name from
 * an expression in a model. Unit admins deploy their own models, so the beans an expression may
 * name are limited to the one the shipped models use; the server's model lint is the first wall,
 * this is the second.
 */
@Component
public class ExpressionBeans extends AbstractProcessEnginePlugin {

  private final JsonFunctions json;

  public ExpressionBeans(JsonFunctions json) {
    this.json = json;
  }

  @Override
  public void preInit(ProcessEngineConfigurationImpl configuration) {
    Map<Object, Object> beans = Map.of("json", json);
    configuration.setBeans(beans);
    // The Spring factory has already made an expression manager that sees the whole context;
    // this one resolves only the names in `beans` (variables are resolved as always).
    configuration.setExpressionManager(new JuelExpressionManager(beans));
  }
}
