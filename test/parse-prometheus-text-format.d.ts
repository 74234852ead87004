declare module "parse-prometheus-text-format" {
  /** Parses the Prometheus text exposition format into metric families, as prom2json does. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
