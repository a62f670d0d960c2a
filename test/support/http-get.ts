// A plain node:http GET for tests of the metrics endpoint: status, headers and body as text.
import { request } from "node:http";

export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** GETs http://host:port/path (or another method); rejects after `timeoutMs`. */
export async function httpGet(host: string, port: number, path: string, method = "GET", timeoutMs = 5000): Promise<HttpReply> {
  return new Promise<HttpReply>((resolve, reject) => {
    const req = request({ host, port, path, method, agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The value of one series in Prometheus text (`name{a="b"}` exactly as printed), or undefined. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
