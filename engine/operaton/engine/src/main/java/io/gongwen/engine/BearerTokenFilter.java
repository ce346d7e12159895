// Lets a request through only with "Authorization: Bearer <GONGWEN_ENGINE_TOKEN>"; all else gets 401.
// A request that names a unit in "Gongwen-Tenant" runs authenticated as a member of that tenant
// only, so the engine's tenant check refuses every other unit's definitions, instances and tasks:
// a second wall behind the server's own unit scoping.
package io.gongwen.engine;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.operaton.bpm.engine.IdentityService;
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
  FilterRegistrationBean<OncePerRequestFilter> bearerToken(@Value("${gongwen.engine.token}") String token, IdentityService identityService) {
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
          String tenant = req.getHeader("Gongwen-Tenant");
          if (tenant == null || tenant.isBlank()) {
            chain.doFilter(req, res);
            return;
          }
          identityService.setAuthentication("gongwen-server", List.of(), List.of(tenant));
          try {
            chain.doFilter(req, res);
          } finally {
            identityService.clearAuthentication();
          }
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
