// Lets a request through only with "Authorization: Bearer <GONGWEN_ENGINE_TOKEN>"; all else gets 401.
package io.gongwen.engine;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;

@Configuration
public class BearerTokenFilter {

  /** Registered on every path, before the REST API's own filters. */
  @Bean
  FilterRegistrationBean<OncePerRequestFilter> bearerToken(@Value("${gongwen.engine.token}") String token) {
    if (token.isBlank()) throw new IllegalStateException("GONGWEN_ENGINE_TOKEN is not set");
    byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    OncePerRequestFilter filter = new OncePerRequestFilter() {
      @Override
      protected void doFilterInternal(HttpServletRequest req, HttpServletResponse res, FilterChain chain)
          throws ServletException, IOException {
        String header = req.getHeader("Authorization");
        byte[] given = header == null ? new byte[0] : header.getBytes(StandardCharsets.UTF_8);
        // MessageDigest.isEqual takes the same time wherever the first difference is.
        if (MessageDigest.isEqual(expected, given)) {
          chain.doFilter(req, res);
          return;
        }
        res.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
        res.setHeader("WWW-Authenticate", "Bearer");
        res.setContentType("application/json");
        res.getWriter().write("{\"type\":\"AuthenticationException\",\"message\":\"a valid bearer token is required\"}");
      }
    };
    FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(filter);
    registration.addUrlPatterns("/*");
    registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
    return registration;
  }
}
