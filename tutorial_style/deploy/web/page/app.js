// The web page's one script: the camera (or an image) through a trained style network, frame after frame, with
// ONNX Runtime Web (ort/, pinned and served with the page: nothing comes from the internet). No build step: this
// file is what the browser runs. The network takes `images` (1, 3, H, W) in [0, 1] and gives `stylised`, the same.
// A network of several styles (networks.json lists their names) also takes `mix` (1, N): the styles' weights, summing
// to 1, which the page reads from one slider per style before every frame (the session stays the same).
//
// URL parameters, for benchmarks/web.py and the tests (a learner needs none):
//   ?backend=wasm|webgpu  ?threads=N  ?size=128|192|256|camera  ?network=NAME  ?camera=off  ?no-sw

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

// What the page is doing: shown in #info, and read by the tests and the benchmark as window.tutorialStyle.
const state = (window.tutorialStyle = {
  ready: false, frames: 0, fps: 0, ms: 0, backend: "", threads: 1, isolated: self.crossOriginIsolated === true,
  source: "", width: 0, height: 0, network: "", message: "", styles: [], mix: [],
});

let ort = null; // the ONNX Runtime Web module
let session = null; // the chosen network's inference session
let networks = []; // networks.json: name, file, network, trained, precision, styles
let current = null; // the chosen network's entry
let mix = null; // a network of several styles: the weights fed as `mix`, normalised to sum 1 (else null)
let redrawing = false; // a redraw of the picture is queued (sliders move faster than frames are computed)
const ALL_ZERO = "every style's slider is at 0: raise one (the picture keeps the last mix)";
let video = null; // the camera's <video>, while it runs
let picture = null; // a chosen or dropped image (an ImageBitmap), when there is no camera
let inflight = Promise.resolve(); // the frame being computed: a network is swapped only between frames
const finished = []; // when the last frames were done (ms), for frames per second

const view = $("view");
const scratch = document.createElement("canvas"); // the input frame at the working size

main().catch((e) => say(`the page could not start: ${e.message || e}`));

async function main() {
  if (await isolateWithServiceWorker()) return; // reloading under the service worker
  networks = (await (await fetch("networks.json")).json()).networks;
  for (const [i, net] of networks.entries()) $("network").add(new Option(`${net.name} (${net.precision})`, i));
  const chosen = networks.findIndex((n) => n.name === params.get("network"));
  $("network").value = String(Math.max(0, chosen));
  if (params.get("size")) $("size").value = params.get("size");
  await loadRuntime();
  await useNetwork(Number($("network").value));
  wireControls();
  state.ready = true;
  if (params.get("camera") !== "off") await startCamera();
  else say("the camera is off (?camera=off): choose or drop an image");
}

// Threads need a cross-origin isolated page. The tutorial's server sends the two headers that make it so; a static
// host that cannot gets them from sw.js, a service worker that adds them to this site's responses, and the page
// reloads once under it. Where that does not work either, the page runs on one thread.
async function isolateWithServiceWorker() {
  if (self.crossOriginIsolated || !self.isSecureContext || !("serviceWorker" in navigator) || params.has("no-sw")) return false;
  if (sessionStorage.getItem("tutorial-style-isolation-tried")) return false; // tried once: go on with one thread
  sessionStorage.setItem("tutorial-style-isolation-tried", "1");
  const registered = navigator.serviceWorker.register("sw.js").then(() => navigator.serviceWorker.ready);
  const late = new Promise((resolve) => setTimeout(() => resolve("late"), 5000)); // a blocked registration never settles
  const outcome = await Promise.race([registered, late]).catch(() => "failed");
  if (outcome === "late" || outcome === "failed") return false;
  location.reload();
  return true;
}

// WebGPU where the browser has a GPU adapter, else WebAssembly with SIMD, on several threads when isolated.
async function loadRuntime() {
  let backend = params.get("backend");
  if (!backend) backend = navigator.gpu && (await navigator.gpu.requestAdapter().catch(() => null)) ? "webgpu" : "wasm";
  ort = await import(backend === "webgpu" ? "./ort/ort.webgpu.min.mjs" : "./ort/ort.wasm.min.mjs");
  const cores = navigator.hardwareConcurrency || 1;
  state.threads = state.isolated ? Number(params.get("threads")) || Math.min(4, cores) : 1;
  ort.env.wasm.numThreads = state.threads;
  // WebAssembly runs in a worker (ONNX Runtime's proxy): the page stays responsive while a frame is computed.
  ort.env.wasm.proxy = backend === "wasm";
  state.backend = backend;
}

async function useNetwork(index) {
  const net = networks[index];
  const options = { executionProviders: [state.backend], graphOptimizationLevel: "all" };
  let next;
  try {
    next = await ort.InferenceSession.create(net.file, options);
  } catch (e) {
    if (state.backend !== "webgpu") throw new Error(`${net.file} cannot be loaded (${e.message || e})`);
    state.backend = "wasm"; // WebGPU failed on this device: the same module runs on WebAssembly too (not proxied)
    next = await ort.InferenceSession.create(net.file, { ...options, executionProviders: ["wasm"] });
  }
  inflight = inflight.then(async () => { // between two frames: no frame runs on a released session
    const old = session;
    [session, current, state.network] = [next, net, net.name];
    showStyles(net);
    if (old) await old.release();
    finished.length = 0;
    showInfo();
  });
  await inflight;
}

// One slider (0 to 1) per style of the chosen network, labelled with its name: the first at 1, the others at 0.
function showStyles(net) {
  const box = $("styles");
  const styles = net.styles || [];
  box.replaceChildren();
  box.hidden = styles.length === 0;
  for (const [i, name] of styles.entries()) {
    const slider = Object.assign(document.createElement("input"), {
      type: "range", min: "0", max: "1", step: "0.01", value: i === 0 ? "1" : "0",
    });
    slider.setAttribute("aria-label", `weight of the style ${name}`);
    slider.oninput = () => { readMix(); redrawSoon(); };
    const label = document.createElement("label");
    label.append(name, slider, document.createElement("output"));
    box.append(label);
  }
  mix = null;
  readMix();
}

// The sliders as the next frame's mix, normalised to sum 1; all at 0 keeps the last mix and says so.
function readMix() {
  const sliders = [...$("styles").querySelectorAll("input[type=range]")];
  const weights = sliders.map((slider) => Number(slider.value));
  const sum = weights.reduce((a, b) => a + b, 0);
  sliders.forEach((slider, i) => (slider.nextElementSibling.value = sum > 0 ? `${Math.round((100 * weights[i]) / sum)} %` : "0 %"));
  if (sum > 0) {
    mix = sliders.length ? Float32Array.from(weights, (w) => w / sum) : null;
    if (state.message === ALL_ZERO) say("");
  } else if (sliders.length) say(ALL_ZERO);
  Object.assign(state, { styles: [...(current?.styles || [])], mix: mix ? Array.from(mix) : [] });
}

// A still picture is styled again after a slider moves (the camera's next frame takes the new mix by itself).
function redrawSoon() {
  if (!picture || video || redrawing) return;
  redrawing = true;
  inflight.then(() => {
    redrawing = false;
    return redrawPicture();
  });
}

function wireControls() {
  $("network").onchange = () => useNetwork(Number($("network").value)).then(redrawPicture, (e) => say(e.message));
  $("size").onchange = () => { finished.length = 0; redrawPicture(); };
  $("mirror").onchange = redrawPicture;
  $("camera").onclick = startCamera;
  $("file").onchange = () => $("file").files[0] && usePicture($("file").files[0]);
  $("snapshot").onclick = snapshot;
  document.addEventListener("dragover", (e) => { e.preventDefault(); document.body.classList.add("dragging"); });
  document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    document.body.classList.remove("dragging");
    if (e.dataTransfer.files[0]) usePicture(e.dataTransfer.files[0]);
  });
}

async function startCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    return say(self.isSecureContext
      ? "this browser gives no camera access: choose or drop an image instead"
      : `the camera needs a secure page (https:// or localhost) and this one is ${location.origin}: choose or drop an image, or open the page over https`);
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 640 } }, audio: false });
  } catch (e) {
    const why = {
      NotAllowedError: "camera permission was refused (allow the camera for this site in the browser's settings and reload)",
      NotFoundError: "no camera was found",
      NotReadableError: "the camera is busy in another program",
      OverconstrainedError: "no camera fits",
    }[e.name] || `the camera cannot be opened (${e.name}: ${e.message})`;
    return say(`${why}: choose or drop an image instead`);
  }
  stopCamera();
  video = Object.assign(document.createElement("video"), { muted: true, playsInline: true, srcObject: stream });
  await video.play();
  picture = null;
  state.source = "camera";
  say("");
  finished.length = 0;
  while (video && video.srcObject === stream) { // one frame after the other, as fast as the network goes
    await frame(video, video.videoWidth, video.videoHeight, $("mirror").checked);
    await yieldToPage(); // let the page handle clicks between frames
  }
}

// A pause for the page's own events (clicks, drawing), without setTimeout's 4 ms floor for repeated timers (a tenth of
// a frame). scheduler.yield() would not do: its continuation goes before the page's other tasks.
function yieldToPage() {
  if (!video?.videoWidth) return new Promise((resolve) => setTimeout(resolve, 50)); // no camera frame yet
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

function stopCamera() {
  if (video) for (const track of video.srcObject.getTracks()) track.stop();
  video = null;
}

async function usePicture(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return say(`${file.name} cannot be decoded by this browser (it is not an image, or it is damaged): choose a PNG, JPEG or WebP`);
  }
  stopCamera();
  picture = bitmap;
  state.source = `image ${file.name}`;
  say("");
  await redrawPicture();
}

async function redrawPicture() {
  if (picture) await frame(picture, picture.width, picture.height, false);
}

// The working size: the longer side is the size asked for (or the camera's own), both sides a multiple of 4 (the
// network's two stride-2 stages then need no padding).
function workingSize(width, height) {
  const asked = $("size").value === "camera" ? Math.max(width, height) : Number($("size").value);
  const scale = asked / Math.max(width, height);
  return [Math.max(8, 4 * Math.round((width * scale) / 4)), Math.max(8, 4 * Math.round((height * scale) / 4))];
}

// One frame: the source at the working size, through the network, onto the view.
function frame(source, sourceWidth, sourceHeight, mirror) {
  inflight = inflight.then(async () => {
    if (!sourceWidth || !sourceHeight) return;
    const [w, h] = workingSize(sourceWidth, sourceHeight);
    const n = w * h;
    Object.assign(scratch, { width: w, height: h });
    const ctx = scratch.getContext("2d", { willReadFrequently: true });
    ctx.setTransform(mirror ? -1 : 1, 0, 0, 1, mirror ? w : 0, 0);
    ctx.drawImage(source, 0, 0, w, h);
    const rgba = ctx.getImageData(0, 0, w, h).data;
    const planes = new Float32Array(3 * n); // RGBA bytes to the network's (1, 3, H, W) floats in [0, 1]
    for (let i = 0; i < n; i++) {
      planes[i] = rgba[4 * i] / 255;
      planes[n + i] = rgba[4 * i + 1] / 255;
      planes[2 * n + i] = rgba[4 * i + 2] / 255;
    }
    const start = performance.now();
    let result;
    try {
      const feeds = { images: new ort.Tensor("float32", planes, [1, 3, h, w]) };
      if (mix) feeds.mix = new ort.Tensor("float32", Float32Array.from(mix), [1, mix.length]); // a copy per frame
      result = await session.run(feeds);
    } catch (e) {
      stopCamera();
      return say(`the network failed on a ${w} x ${h} frame (${e.message || e})`);
    }
    const out = result.stylised.data;
    const pixels = new Uint8ClampedArray(4 * n); // and back: floats in [0, 1] to bytes, rounded
    for (let i = 0; i < n; i++) {
      pixels[4 * i] = out[i] * 255;
      pixels[4 * i + 1] = out[n + i] * 255;
      pixels[4 * i + 2] = out[2 * n + i] * 255;
      pixels[4 * i + 3] = 255;
    }
    Object.assign(view, { width: w, height: h });
    view.getContext("2d").putImageData(new ImageData(pixels, w, h), 0, 0);
    const now = performance.now();
    finished.push(now);
    while (finished.length > 2 && now - finished[0] > 2000) finished.shift(); // the last two seconds
    Object.assign(state, { frames: state.frames + 1, ms: now - start, width: w, height: h });
    state.fps = finished.length > 1 ? ((finished.length - 1) * 1000) / (now - finished[0]) : 0;
    showInfo();
  });
  return inflight;
}

function backendText() {
  if (state.backend === "webgpu") return "ONNX Runtime Web on WebGPU";
  const threads = `${state.threads} thread${state.threads > 1 ? "s" : ""}`;
  return `ONNX Runtime Web on WebAssembly (SIMD, ${threads}${state.isolated ? "" : ": the page is not cross-origin isolated"})`;
}

function showInfo() {
  const rate = state.source === "camera" && state.fps ? `${state.fps.toFixed(1)} frames/s, ` : "";
  $("fps").textContent = state.frames ? `${rate}${state.ms.toFixed(0)} ms a frame` : "waiting for a picture";
  $("backend").textContent = backendText();
  $("input").textContent = state.frames ? `${state.source} at ${state.width} x ${state.height} px` : "";
  if (current) $("made-by").textContent = `${current.name}: ${current.network}, ${current.precision}; ${trainedText()}`;
}

// What trained the network: "trained with ..." (a shipped network's line says it itself: "trained with ImageNet VGG16
// features").
function trainedText() {
  return current.trained.includes("trained with") ? current.trained : `trained with ${current.trained}`;
}

function mixText() {
  return mix ? `mix: ${current.styles.map((name, i) => `${name} ${Math.round(100 * mix[i])} %`).join(", ")}` : "";
}

function say(text) {
  state.message = text;
  $("message").textContent = text;
}

// A PNG of the styled picture with a caption: which network, what trained it (its VGG19 weights), which size.
function snapshot() {
  if (!state.frames) return say("nothing to save yet: wait for a styled picture");
  const lines = [
    `${current.name} (${current.network}, ${current.precision}) at ${view.width} x ${view.height} px`,
    ...(mix ? [mixText()] : []),
    trainedText(),
    `${backendText()}; tutorial_style's web page`,
  ];
  const width = Math.max(view.width, 480);
  const out = document.createElement("canvas");
  const ctx = out.getContext("2d");
  ctx.font = "12px sans-serif";
  const wrapped = lines.flatMap((line) => wrap(ctx, line, width - 12));
  Object.assign(out, { width, height: view.height + 8 + 16 * wrapped.length });
  ctx.fillStyle = "#111";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(view, Math.floor((width - view.width) / 2), 0);
  ctx.font = "12px sans-serif";
  ctx.fillStyle = "#eee";
  wrapped.forEach((line, i) => ctx.fillText(line, 6, view.height + 18 + 16 * i));
  const name = `${current.name}-${view.width}x${view.height}.png`;
  out.toBlob((blob) => {
    const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: name });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  });
  say(`saved ${name}: ${lines.slice(0, -1).join("; ")}`);
}

function wrap(ctx, text, width) {
  const lines = [""];
  for (const word of text.split(" ")) {
    const candidate = lines[lines.length - 1] ? `${lines[lines.length - 1]} ${word}` : word;
    if (ctx.measureText(candidate).width > width && lines[lines.length - 1]) lines.push(word);
    else lines[lines.length - 1] = candidate;
  }
  return lines;
}
