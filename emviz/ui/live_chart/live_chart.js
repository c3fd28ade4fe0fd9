// emviz live chart: one Plotly graph that stays mounted across Streamlit reruns.
//
// A Streamlit v2 component: it runs in the app's own page (no iframe), so every chart on the
// page shares one plotly.js, fetched once per browser (HTTP cache) and evaluated once per
// page. Each render brings the figure of the shown step; Plotly.react updates the graph in
// place. Optionally it brings the figures of the steps the page's buttons lead to
// (data.preload) and which button, by its widget key, leads where (data.moves): a click on
// such a button draws that step at once, before the server's rerun confirms it with the same
// figure, which is then not drawn again.

// Trace types of plotly.js's cartesian bundle (data.plotly); others need data.plotly_full.
const CARTESIAN = new Set(["bar", "box", "contour", "heatmap", "histogram", "histogram2d",
  "histogram2dcontour", "image", "pie", "scatter", "scatterternary", "violin"]);

// Each bundle is loaded once per page, one after the other: each sets window.Plotly when it
// runs, and that is the one its promise keeps.
function loadPlotly(url) {
  const loaded = window.__emvizPlotly = window.__emvizPlotly || { queue: Promise.resolve() };
  if (!loaded[url]) {
    loaded[url] = loaded.queue.then(function () {
      return new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = url;
        script.async = true;
        script.onload = function () {
          performance.mark("emviz-plotly-ready");  // for benchmarks/browser_pages.py
          resolve(window.Plotly);
        };
        script.onerror = function () { delete loaded[url]; reject(new Error(url)); };
        document.head.appendChild(script);
      });
    });
    loaded.queue = loaded[url].catch(function () {});
  }
  return loaded[url];
}

function bundleFor(figure, urls) {
  const traces = (figure.data || []).concat(...(figure.frames || []).map(function (f) {
    return f.data || [];
  }));
  const cartesian = traces.every(function (t) { return CARTESIAN.has(t.type || "scatter"); });
  return cartesian ? urls.plotly : urls.plotly_full;
}

// A Streamlit widget with a key sits in a container with the class "st-key-<key>".
function widgetKey(element) {
  const holder = element.closest('[class*="st-key-"]');
  const match = holder && holder.className.match(/(?:^|\s)st-key-(\S+)/);
  return match ? match[1] : null;
}

function chartOf(parentElement) {
  let chart = parentElement.querySelector(".emviz-live-chart");
  if (!chart) {
    chart = document.createElement("div");
    chart.className = "emviz-live-chart";
    chart.dataset.step = "";
    chart.dataset.renders = "0";
    chart.style.width = "100%";
    parentElement.appendChild(chart);
    chart.__emviz = { lastSpec: null, drawing: Promise.resolve(), preload: {}, moves: {},
                      clicks: 0, listening: false, instance: null, urls: {} };
  }
  return chart;
}

// Draws are chained so that a preloaded step and the server's figure never interleave.
function show(chart, spec, step) {
  const own = chart.__emviz;
  if (spec === own.lastSpec) { return own.drawing; }
  own.lastSpec = spec;
  own.drawing = own.drawing.then(function () { return draw(chart, spec, step); });
  return own.drawing;
}

async function draw(chart, spec, step) {
  const own = chart.__emviz;
  const figure = JSON.parse(spec);
  const Plotly = await loadPlotly(bundleFor(figure, own.urls));
  const started = performance.now();
  if (own.instance && own.instance !== Plotly) {
    own.instance.purge(chart);  // drawn by the other bundle: start afresh with this one
    own.listening = false;
  }
  own.instance = Plotly;
  chart.style.height = ((figure.layout && figure.layout.height) || 500) + "px";
  await Plotly.react(chart, { data: figure.data, layout: figure.layout, frames: figure.frames,
                              config: { responsive: true, displaylogo: false } });
  if (!own.listening) { listenForPointClicks(chart); own.listening = true; }
  chart.dataset.step = String(step);
  chart.dataset.renders = String(Number(chart.dataset.renders) + 1);
  performance.measure("emviz-draw", { start: started, end: performance.now() });
}

function listenForPointClicks(chart) {
  chart.on("plotly_click", function (event) {
    const point = event.points.find(function (p) { return p.curveNumber === 0; })
                  || event.points[0];
    if (point) {
      const own = chart.__emviz;
      own.clicks += 1;
      own.setTriggerValue("click", { curve: point.curveNumber, point: point.pointIndex,
                                     customdata: point.customdata ?? null,
                                     x: point.x, y: point.y, click: own.clicks });
    }
  });
}

function listenForSteps(chart) {
  const own = chart.__emviz;
  own.onPageClick = function (event) {
    const button = event.target && event.target.closest && event.target.closest("button");
    if (!button || button.disabled) { return; }
    const key = widgetKey(button);
    if (key === null || !Object.prototype.hasOwnProperty.call(own.moves, key)) { return; }
    const step = own.moves[key];
    const spec = own.preload[String(step)];
    // After this click has reached Streamlit: its rerun request is not held up by the drawing.
    if (spec !== undefined) { setTimeout(function () { show(chart, spec, step); }, 0); }
  };
  document.addEventListener("click", own.onPageClick, true);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (data.spec === undefined) { loadPlotly(data.plotly); return undefined; }  // preload only
  const chart = chartOf(parentElement);
  const own = chart.__emviz;
  own.setTriggerValue = setTriggerValue;
  own.urls = { plotly: data.plotly, plotly_full: data.plotly_full };
  own.preload = data.preload || {};
  own.moves = data.moves || {};
  if (Object.keys(own.moves).length && !own.onPageClick) { listenForSteps(chart); }
  show(chart, data.spec, data.step);
  return function () {
    if (own.onPageClick) { document.removeEventListener("click", own.onPageClick, true); }
    own.onPageClick = null;
  };
}
