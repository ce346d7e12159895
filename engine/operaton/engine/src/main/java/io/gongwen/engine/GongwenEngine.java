// Entry point of the 公文流转 engine: Operaton with its REST API on 127.0.0.1, guarded by a token.
package io.gongwen.engine;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

@SpringBootApplication
public class GongwenEngine {

  public static void main(String[] args) {
    // Checked before Spring starts so a missing token is one clear line, not a stack trace:
    // without it the REST API (which can do anything to any process) would be open.
    String token = System.getenv("GONGWEN_ENGINE_TOKEN");
    if (token == null || token.isBlank()) {
      System.err.println("GONGWEN_ENGINE_TOKEN is not set: refusing to start an engine without a REST credential.");
      System.exit(2);
    }
    SpringApplication.run(GongwenEngine.class, args);
  }
}
