// The interactive API documentation: Swagger UI (from npm, served under /vendor/) over
// /api/openapi.json. No request leaves the server: the online validator badge is off.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || !window.SwaggerUIBundle) { return; }
  window.landregApiDocs = window.SwaggerUIBundle({
    url: node.dataset.specUrl,
    domNode: node,
    validatorUrl: null,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false
  });
}());
