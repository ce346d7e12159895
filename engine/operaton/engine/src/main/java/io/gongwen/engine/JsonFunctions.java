// The "json" bean for BPMN expressions: ${json.list(signersJson)} turns JSON array text into a List.
package io.gongwen.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * Lists travel between the server and the engine as JSON text (Spin, the engine's JSON type, is
 * not published for Operaton 1.0.3, and Java-serialized variables are refused). Multi-instance
 * collections need a java.util.List, which this builds. Items are plain strings: a string or
 * number item as its text, an object or array item as its JSON text.
 */
@Component("json")
public class JsonFunctions {

  private final ObjectMapper mapper = new ObjectMapper();

  public List<String> list(Object value) throws JsonProcessingException {
    List<String> items = new ArrayList<>();
    if (value == null || value.toString().isBlank()) return items;
    JsonNode root = mapper.readTree(value.toString());
    if (root.isNull()) return items;
    if (!root.isArray()) throw new IllegalArgumentException("json.list expects a JSON array, got: " + root.getNodeType());
    for (JsonNode item : root) {
      items.add(item.isContainerNode() ? mapper.writeValueAsString(item) : item.asText());
    }
    return items;
  }
}
