import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from "chart.js";
import { useEffect, useRef } from "react";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

interface Props {
  label: string;
  labels: string[];
  values: number[];
  format: (value: number) => string;
}

/** A bar chart (Chart.js on a canvas) with its figures also given as text for screen readers. */
export function BarChart({ label, labels, values, format }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: { labels, datasets: [{ label, data: values, backgroundColor: "#1d4ed8" }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { callback: (v) => format(Number(v)) } } },
        plugins: { tooltip: { callbacks: { label: (item) => format(Number(item.raw)) } } },
      },
    });
    return () => chart.destroy();
  }, [label, labels, values, format]);
  const summary = labels.map((name, i) => `${name}: ${format(values[i])}`).join("; ");
  return (
    <figure className="chart">
      <figcaption>{label}</figcaption>
      <div className="chart-area">
        <canvas ref={canvas} role="img" aria-label={`${label}: ${summary}`} />
      </div>
    </figure>
  );
}
