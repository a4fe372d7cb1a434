// Starts GraphiQL (vendored, see README.md) against this server's endpoints. A file of its
// own so that the page needs no inline script.
"use strict";
(function () {
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({
    url: root.getAttribute("data-endpoint"),
    subscriptionUrl: (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.getAttribute("data-subscriptions"),
  });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true })
  );
})();
