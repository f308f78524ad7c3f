// A small grouped bar chart as SVG (log scale), for benchmark figures in the README.

export interface BarChart {
  title: string;
  groups: string[];
  series: Array<{ name: string; values: number[] }>;
}

const COLORS = ['#2b6cb0', '#c05621', '#2f855a'];

export function renderBarChart(chart: BarChart): string {
  const width = 720;
  const height = 360;
  const left = 70;
  const bottom = 60;
  const top = 50;
  const plotHeight = height - top - bottom;
  const all = chart.series.flatMap((s) => s.values).filter((v) => v > 0);
  const maxExp = Math.ceil(Math.log10(Math.max(...all, 10)));
  const y = (v: number): number => top + plotHeight - (Math.log10(Math.max(v, 1)) / maxExp) * plotHeight;
  const groupWidth = (width - left - 20) / chart.groups.length;
  const barWidth = (groupWidth * 0.7) / chart.series.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${chart.title}</text>`,
  ];
  for (let e = 0; e <= maxExp; e += 1) {
    parts.push(
      `<line x1="${left}" x2="${width - 20}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(10 ** e) + 4}" text-anchor="end">${(10 ** e).toLocaleString('en-US')}</text>`,
    );
  }
  chart.groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + groupWidth * 0.15;
    chart.series.forEach((series, s) => {
      const v = series.values[g] ?? 0;
      const x = x0 + s * barWidth;
      parts.push(
        `<rect x="${x}" y="${y(v)}" width="${barWidth - 4}" height="${top + plotHeight - y(v)}" fill="${COLORS[s % COLORS.length]}"/>`,
        `<text x="${x + (barWidth - 4) / 2}" y="${y(v) - 4}" text-anchor="middle" font-size="10">${Math.round(v).toLocaleString('en-US')}</text>`,
      );
    });
    parts.push(
      `<text x="${x0 + (barWidth * chart.series.length) / 2}" y="${height - bottom + 18}" text-anchor="middle">${group}</text>`,
    );
  });
  chart.series.forEach((series, s) => {
    parts.push(
      `<rect x="${left + s * 190}" y="${height - 22}" width="12" height="12" fill="${COLORS[s % COLORS.length]}"/>`,
      `<text x="${left + s * 190 + 18}" y="${height - 12}">${series.name}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
