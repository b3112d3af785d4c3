// The dashboard's charts (issue 11, item 5): drawn from the page's JSON block; each has its table beside it.
(function () {
  "use strict";
  var source = document.getElementById("report-charts");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var colours = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#ffc107"];
  JSON.parse(source.textContent).forEach(function (chart) {
    var canvas = document.getElementById(chart.id);
    if (!canvas) {
      return;
    }
    new Chart(canvas, {
      type: chart.type,
      data: {
        labels: chart.labels,
        datasets: [{ label: chart.title, data: chart.values, backgroundColor: colours }],
      },
      options: {
        animation: false,
        plugins: { legend: { display: chart.type === "doughnut" } },
        scales: chart.type === "doughnut" ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  });
})();
