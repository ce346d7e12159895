// Makes sure the engine's own schema exists before Operaton looks for its tables in it.
package io.gongwen.engine;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration
public class EngineSchema {

  // Schema names end up inside SQL text (search_path, qualified function names), so only plain
  // lower-case identifiers are accepted: nothing to quote, nothing to inject.
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  static String identifier(String setting, String value) {
    if (!IDENTIFIER.matcher(value).matches()) {
      throw new IllegalStateException(setting + " must be a lower-case SQL identifier, got '" + value + "'");
    }
    return value;
  }

  /**
   * Runs as the data source is created, so before the engine's schema update. The server usually
   * created the schema already; checking pg_namespace first means a database user without the
   * CREATE privilege still works then.
   */
  @Bean
  static BeanPostProcessor engineSchemaCreator(@Value("${gongwen.engine.schema}") String configured) {
    String schema = identifier("GONGWEN_ENGINE_SCHEMA", configured);
    return new BeanPostProcessor() {
      @Override
      public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof DataSource dataSource) create(dataSource, schema);
        return bean;
      }
    };
  }

  private static void create(DataSource dataSource, String schema) {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement exists = connection.prepareStatement("select 1 from pg_namespace where nspname = ?")) {
      exists.setString(1, schema);
      try (ResultSet row = exists.executeQuery()) {
        if (row.next()) return;
      }
      try (Statement create = connection.createStatement()) {
        create.execute("create schema if not exists " + schema);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create the engine schema '" + schema + "': " + e.getMessage(), e);
    }
  }
}
