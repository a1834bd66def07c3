// A service worker that makes the page cross-origin isolated on static hosts that cannot send headers (GitHub Pages,
// a shared web space): it answers every request of this site with the response plus the two headers
// Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, which let ONNX Runtime Web
// use several threads (SharedArrayBuffer). app.js registers it and reloads the page once. The tutorial's own server
// sends the headers itself, so there it is never registered.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin) return; // the page loads nothing from elsewhere
  if (request.cache === "only-if-cached" && request.mode !== "same-origin") return;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.status === 0) return response; // opaque: nothing to add headers to
      const headers = new Headers(response.headers);
      headers.set("Cross-Origin-Opener-Policy", "same-origin");
      headers.set("Cross-Origin-Embedder-Policy", "require-corp");
      headers.set("Cross-Origin-Resource-Policy", "same-origin");
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }),
  );
});
