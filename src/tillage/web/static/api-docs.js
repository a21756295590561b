// Start Swagger UI (from the installed swagger-ui-bundle package) on /openapi.json; a file, not
// an inline script, so the Content-Security-Policy can forbid inline code.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null
  });
})();
