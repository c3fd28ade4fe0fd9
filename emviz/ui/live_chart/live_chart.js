// emviz live chart: one Plotly graph that stays mounted across Streamlit reruns.
//
// A Streamlit v2 component: it runs in the app's own page (no iframe), so every chart on the
// page shares one plotly.js, fetched once per browser (HTTP cache) and evaluated once per
// page. Each render brings the figure of the shown step; Plotly.react updates the graph in
// place. Optionally it brings the figures of the steps the page's buttons lead to
// (data.preload) and which button, by its widget key, leads where (data.moves): a click on
// such a button draws that step at once, before the server's rerun confirms it with the same
// figure, which is then not drawn again.

function loadPlotly(url) {
  if (!window.__emvizPlotly) {
    window.__emvizPlotly = new Promise(function (resolve, reject) {
      if (window.Plotly) { resolve(window.Plotly); return; }
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = function () {
        performance.mark("emviz-plotly-ready");  // for benchmarks/browser_pages.py
        resolve(window.Plotly);
      };
      script.onerror = function () { window.__emvizPlotly = null; reject(new Error(url)); };
      document.head.appendChild(script);
    });
  }
  return window.__emvizPlotly;
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
                      clicks: 0, listening: false };
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
  const Plotly = await chart.__emviz.plotly;
  const started = performance.now();
  const figure = JSON.parse(spec);
  chart.style.height = ((figure.layout && figure.layout.height) || 500) + "px";
  const first = !chart.classList.contains("js-plotly-plot");
  await Plotly.react(chart, { data: figure.data, layout: figure.layout, frames: figure.frames,
                              config: { responsive: true, displaylogo: false } });
  if (first) { listenForPointClicks(chart); }
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
  own.plotly = loadPlotly(data.plotly);
  own.preload = data.preload || {};
  own.moves = data.moves || {};
  if (Object.keys(own.moves).length && !own.onPageClick) { listenForSteps(chart); }
  show(chart, data.spec, data.step);
  return function () {
    if (own.onPageClick) { document.removeEventListener("click", own.onPageClick, true); }
    own.onPageClick = null;
  };
}
