// Zeebe exporter that forwards the records the inbox needs to the 公文流转 server over HTTP.
//
// Why an exporter: Zeebe 8.6 (the newest distribution on Maven Central here) has native user
// tasks but no user task listeners. An exporter sees every record the broker commits, in log
// order, and the broker re-exports from the last acknowledged position after a restart, so the
// server receives each user task's CREATED / ASSIGNED / COMPLETED / CANCELED at least once.
// The position is acknowledged only after the server answered 2xx, so nothing is skipped while
// the server is down; the server upserts by key, so a repeat changes nothing.
package io.gongwen.exporter;

import io.camunda.zeebe.exporter.api.Exporter;
import io.camunda.zeebe.exporter.api.context.Context;
import io.camunda.zeebe.exporter.api.context.Controller;
import io.camunda.zeebe.protocol.record.Record;
import io.camunda.zeebe.protocol.record.RecordType;
import io.camunda.zeebe.protocol.record.ValueType;
import io.camunda.zeebe.protocol.record.value.BpmnElementType;
import io.camunda.zeebe.protocol.record.value.ProcessInstanceRecordValue;
import io.camunda.zeebe.protocol.record.value.VariableRecordValue;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;

public final class GongwenExporter implements Exporter {
  private static final Set<BpmnElementType> TRACKED_ELEMENTS =
      Set.of(
          BpmnElementType.PROCESS,
          BpmnElementType.USER_TASK,
          BpmnElementType.SERVICE_TASK,
          BpmnElementType.END_EVENT);

  private Logger log;
  private Controller controller;
  private HttpClient http;
  private URI url;
  private String token;
  private String variableName;
  private int maxBatch;
  private Duration flushInterval;
  private int partitionId;

  private final List<String> buffer = new ArrayList<>();
  private long lastBufferedPosition = -1;
  private int failures = 0;

  @Override
  public void configure(Context context) {
    log = context.getLogger();
    partitionId = context.getPartitionId();
    Map<String, Object> args = context.getConfiguration().getArguments();
    url = URI.create(required(args, "url"));
    token = String.valueOf(args.getOrDefault("token", ""));
    variableName = String.valueOf(args.getOrDefault("variablename", "documentId"));
    maxBatch = Integer.parseInt(String.valueOf(args.getOrDefault("maxbatch", "200")));
    flushInterval =
        Duration.ofMillis(Long.parseLong(String.valueOf(args.getOrDefault("flushms", "20"))));
    context.setFilter(
        new Context.RecordFilter() {
          @Override
          public boolean acceptType(RecordType type) {
            return type == RecordType.EVENT;
          }

          @Override
          public boolean acceptValue(ValueType type) {
            return type == ValueType.USER_TASK
                || type == ValueType.PROCESS_INSTANCE
                || type == ValueType.VARIABLE
                || type == ValueType.INCIDENT;
          }
        });
  }

  private static String required(Map<String, Object> args, String key) {
    Object value = args.get(key);
    if (value == null || String.valueOf(value).isBlank()) {
      throw new IllegalArgumentException("gongwen exporter needs the argument '" + key + "'");
    }
    return String.valueOf(value);
  }

  @Override
  public void open(Controller controller) {
    this.controller = controller;
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    controller.scheduleCancellableTask(flushInterval, this::scheduledFlush);
    log.info("gongwen exporter open, posting to {} from position {}", url, controller.getLastExportedRecordPosition());
  }

  @Override
  public void close() {
    try {
      flush();
    } catch (RuntimeException e) {
      log.warn("gongwen exporter closing with {} records unsent: {}", buffer.size(), e.getMessage());
    }
  }

  @Override
  public void export(Record<?> record) {
    long position = record.getPosition();
    if (position <= lastBufferedPosition) {
      // The director retries a record whose export threw; it is already in the buffer.
      flush();
      return;
    }
    if (!wanted(record)) {
      if (buffer.isEmpty()) {
        controller.updateLastExportedRecordPosition(position);
      }
      return;
    }
    buffer.add(record.toJson());
    lastBufferedPosition = position;
    if (buffer.size() >= maxBatch) {
      flush();
    }
  }

  private boolean wanted(Record<?> record) {
    switch (record.getValueType()) {
      case USER_TASK:
      case INCIDENT:
        return true;
      case VARIABLE:
        return variableName.equals(((VariableRecordValue) record.getValue()).getName());
      case PROCESS_INSTANCE:
        ProcessInstanceRecordValue value = (ProcessInstanceRecordValue) record.getValue();
        String intent = record.getIntent().name();
        return TRACKED_ELEMENTS.contains(value.getBpmnElementType())
            && (intent.equals("ELEMENT_ACTIVATED")
                || intent.equals("ELEMENT_COMPLETED")
                || intent.equals("ELEMENT_TERMINATED"));
      default:
        return false;
    }
  }

  private void scheduledFlush() {
    try {
      flush();
    } catch (RuntimeException e) {
      // Logged in flush; the next tick tries again with a growing pause.
    }
    long pauseMs = failures == 0 ? flushInterval.toMillis() : Math.min(5000, 100L << Math.min(failures, 6));
    controller.scheduleCancellableTask(Duration.ofMillis(pauseMs), this::scheduledFlush);
  }

  private void flush() {
    if (buffer.isEmpty()) {
      return;
    }
    String body =
        "{\"partitionId\":" + partitionId + ",\"records\":[" + String.join(",", buffer) + "]}";
    try {
      HttpRequest request =
          HttpRequest.newBuilder(url)
              .timeout(Duration.ofSeconds(30))
              .header("content-type", "application/json")
              .header("x-exporter-token", token)
              .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
              .build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        throw new IllegalStateException(
            "server answered " + response.statusCode() + ": " + response.body());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw fail(e);
    } catch (Exception e) {
      throw fail(e);
    }
    buffer.clear();
    failures = 0;
    controller.updateLastExportedRecordPosition(lastBufferedPosition);
  }

  private RuntimeException fail(Exception cause) {
    failures++;
    if (failures == 1 || failures % 50 == 0) {
      log.warn(
          "gongwen exporter cannot deliver {} records to {} (attempt {}): {}; will retry — is the server running?",
          buffer.size(),
          url,
          failures,
          cause.toString());
    }
    return new IllegalStateException("gongwen exporter delivery failed", cause);
  }
}
