// POST /engine-rest/gongwen/message-starts: starts many instances of the units' message start
// event at once (分发 to hundreds of units), in parallel transactions, skipping business keys
// that already have an instance, so a retry after a crash starts each recipient once.
package io.gongwen.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.operaton.bpm.engine.HistoryService;
import org.operaton.bpm.engine.IdentityService;
import org.operaton.bpm.engine.ProcessEngineException;
import org.operaton.bpm.engine.RepositoryService;
import org.operaton.bpm.engine.RuntimeService;
import org.operaton.bpm.engine.history.HistoricProcessInstance;
import org.operaton.bpm.engine.repository.ProcessDefinition;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Body: {"messageName": "...", "starts": [{"tenant": "unit", "businessKey": "...", "variables": {"name": {"value": v, "type": "String"}}}]}.
 * Answer: {"started": n, "skipped": n}. Each start runs on the latest version of its tenant's flow
 * with that message start event (one query for all tenants per call); a tenant with none refuses
 * the whole call (400) before anything starts.
 *
 * The starts are split into chunks; each chunk runs in its own transaction on one of a few
 * threads. A chunk first looks up which of its business keys already have an instance in the
 * tenant (running or ended) and starts only the others, so the call may be repeated after any
 * failure: chunks that committed are skipped, the rest are started. A chunk that fails rolls back
 * alone and the call answers 500; the caller sends the whole call again.
 *
 * Behind the same bearer-token filter as the REST API (it is registered on every path).
 */
@Configuration
public class MessageStarts {

  @Bean
  ServletRegistrationBean<HttpServlet> messageStartsServlet(
      RuntimeService runtime,
      RepositoryService repository,
      HistoryService history,
      IdentityService identity,
      PlatformTransactionManager transactions,
      DataSource dataSource,
      @Value("${gongwen.starts.threads:4}") int threads,
      @Value("${gongwen.starts.chunk:25}") int chunk) {
    HttpServlet servlet = new Servlet(runtime, repository, history, identity, new TransactionTemplate(transactions), dataSource,
        Math.max(threads, 1), Math.max(chunk, 1));
    // An exact mapping wins over the REST API's /engine-rest/* mapping.
    ServletRegistrationBean<HttpServlet> registration = new ServletRegistrationBean<>(servlet, "/engine-rest/gongwen/message-starts");
    registration.setName("gongwenMessageStarts");
    return registration;
  }

  record Start(String tenant, String businessKey, Map<String, Object> variables) {}

  static final class Servlet extends HttpServlet {
    private final ObjectMapper mapper = new ObjectMapper();
    private final RuntimeService runtime;
    private final RepositoryService repository;
    private final HistoryService history;
    private final IdentityService identity;
    private final TransactionTemplate transaction;
    private final DataSource dataSource;
    private final int chunk;
    private final ExecutorService pool;

    Servlet(RuntimeService runtime, RepositoryService repository, HistoryService history, IdentityService identity,
        TransactionTemplate transaction, DataSource dataSource, int threads, int chunk) {
      this.runtime = runtime;
      this.repository = repository;
      this.history = history;
      this.identity = identity;
      this.transaction = transaction;
      this.dataSource = dataSource;
      this.chunk = chunk;
      AtomicInteger n = new AtomicInteger();
      this.pool = Executors.newFixedThreadPool(threads, r -> {
        Thread t = new Thread(r, "gongwen-starts-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse res) throws IOException {
      String messageName;
      List<Start> starts = new ArrayList<>();
      try {
        JsonNode body = mapper.readTree(req.getInputStream());
        messageName = body.path("messageName").asText("");
        if (messageName.isBlank()) throw new IllegalArgumentException("messageName is required");
        JsonNode items = body.path("starts");
        if (!items.isArray()) throw new IllegalArgumentException("starts must be an array");
        for (JsonNode item : items) {
          String tenant = item.path("tenant").asText("");
          String key = item.path("businessKey").asText("");
          if (tenant.isBlank() || key.isBlank()) throw new IllegalArgumentException("every start needs a tenant and a businessKey");
          starts.add(new Start(tenant, key, variables(item.path("variables"))));
        }
      } catch (Exception e) {
        fail(res, 400, "InvalidRequestException", e.getMessage(), null);
        return;
      }

      // Each tenant's latest version with this message start, for all tenants in one query (only
      // the latest version of a flow keeps its message start subscription; the max is a guard).
      String[] tenants = starts.stream().map(Start::tenant).distinct().toArray(String[]::new);
      Map<String, ProcessDefinition> definitions = new HashMap<>();
      if (tenants.length > 0) {
        for (ProcessDefinition d : repository.createProcessDefinitionQuery().messageEventSubscriptionName(messageName).tenantIdIn(tenants).list()) {
          ProcessDefinition known = definitions.get(d.getTenantId());
          if (known == null || known.getVersion() < d.getVersion()) definitions.put(d.getTenantId(), d);
        }
      }
      List<String> missing = java.util.Arrays.stream(tenants).filter(t -> !definitions.containsKey(t)).toList();
      if (!missing.isEmpty()) {
        fail(res, 400, "InvalidRequestException",
            "No process definition or execution matches the parameters: no flow starts on message " + messageName + " for " + String.join(",", missing), null);
        return;
      }

      List<Future<int[]>> futures = new ArrayList<>();
      for (int i = 0; i < starts.size(); i += chunk) {
        List<Start> part = starts.subList(i, Math.min(i + chunk, starts.size()));
        futures.add(pool.submit(() -> startChunk(messageName, definitions, part)));
      }
      int started = 0;
      int skipped = 0;
      Throwable failure = null;
      for (Future<int[]> f : futures) {
        try {
          int[] counts = f.get();
          started += counts[0];
          skipped += counts[1];
        } catch (java.util.concurrent.ExecutionException e) {
          if (failure == null) failure = e.getCause();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          if (failure == null) failure = e;
        }
      }
      if (failure != null) {
        Integer code = failure instanceof ProcessEngineException pe ? pe.getCode() : null;
        fail(res, 500, failure.getClass().getSimpleName(), String.valueOf(failure.getMessage()), code);
        return;
      }
      ObjectNode answer = mapper.createObjectNode();
      answer.put("started", started);
      answer.put("skipped", skipped);
      res.setStatus(200);
      res.setContentType("application/json");
      mapper.writeValue(res.getOutputStream(), answer);
    }

    /** One transaction: starts the chunk's business keys that have no instance yet. */
    private int[] startChunk(String messageName, Map<String, ProcessDefinition> definitions, List<Start> part) {
      // As the chunk's units only, like the REST API's calls with a tenant: the tenant check applies.
      String[] tenants = part.stream().map(Start::tenant).distinct().toArray(String[]::new);
      identity.setAuthentication("gongwen-server", List.of(), List.of(tenants));
      try {
        return transaction.execute(status -> {
          String[] keys = part.stream().map(Start::businessKey).sorted().toArray(String[]::new);
          lock(keys);
          // Business keys are unique per tenant here (the incoming document's id): a key seen in
          // any of the chunk's tenants, running or ended, was started before.
          Set<String> existing = new HashSet<>();
          for (HistoricProcessInstance p : history.createHistoricProcessInstanceQuery()
              .tenantIdIn(tenants)
              .processInstanceBusinessKeyIn(keys)
              .list()) {
            existing.add(p.getTenantId() + "\u0000" + p.getBusinessKey());
          }
          int started = 0;
          for (Start s : part) {
            if (!existing.add(s.tenant() + "\u0000" + s.businessKey())) continue;
            runtime.startProcessInstanceByMessageAndProcessDefinitionId(messageName, definitions.get(s.tenant()).getId(), s.businessKey(), s.variables());
            started++;
          }
          return new int[] {started, part.size() - started};
        });
      } finally {
        identity.clearAuthentication();
      }
    }

    /**
     * Holds each business key until the transaction ends: a second call with the same keys at the
     * same time (a step retried while the first run still goes on) waits here, then finds them
     * started. Taken in sorted order, so two calls never wait for each other in a cycle.
     */
    private void lock(String[] sortedKeys) {
      // The transaction's own connection: the one the engine's commands in it use too.
      java.sql.Connection connection = DataSourceUtils.getConnection(dataSource);
      try (java.sql.PreparedStatement statement = connection.prepareStatement(
          "select count(pg_advisory_xact_lock(hashtextextended('gongwen.start:' || k, 0))) from unnest(?::text[]) with ordinality as t(k, n)")) {
        statement.setArray(1, connection.createArrayOf("text", sortedKeys));
        statement.execute();
      } catch (java.sql.SQLException e) {
        throw new ProcessEngineException("could not lock the business keys: " + e.getMessage(), e);
      }
    }

    /** Typed values as the REST API writes them ({"value": v, "type": "String"}), or plain JSON values. */
    private Map<String, Object> variables(JsonNode node) {
      Map<String, Object> out = new LinkedHashMap<>();
      if (node == null || node.isNull() || node.isMissingNode()) return out;
      if (!node.isObject()) throw new IllegalArgumentException("variables must be an object");
      node.fields().forEachRemaining(e -> {
        JsonNode v = e.getValue();
        String type = null;
        if (v.isObject() && v.has("type")) {
          type = v.path("type").asText();
          v = v.path("value");
        }
        out.put(e.getKey(), value(e.getKey(), v, type));
      });
      return out;
    }

    private static Object value(String name, JsonNode v, String type) {
      if (v == null || v.isNull() || v.isMissingNode() || "Null".equals(type)) return null;
      if (type == null) {
        if (v.isTextual()) return v.asText();
        if (v.isBoolean()) return v.asBoolean();
        if (v.isInt()) return v.asInt();
        if (v.isIntegralNumber()) return v.asLong();
        if (v.isNumber()) return v.asDouble();
        return v.toString();
      }
      return switch (type) {
        case "String" -> v.asText();
        case "Boolean" -> v.asBoolean();
        case "Integer" -> v.asInt();
        case "Long" -> v.asLong();
        case "Double" -> v.asDouble();
        default -> throw new IllegalArgumentException("variable " + name + ": type " + type + " is not supported here");
      };
    }

    private void fail(HttpServletResponse res, int status, String type, String message, Integer code) throws IOException {
      Map<String, Object> body = new HashMap<>();
      body.put("type", type);
      body.put("message", message);
      if (code != null) body.put("code", code);
      res.setStatus(status);
      res.setContentType("application/json");
      mapper.writeValue(res.getOutputStream(), body);
    }
  }
}
