// The search page: Pagefind's index (made by the build under pagefind/, a shard
// a month), loaded chunk by chunk as a query needs it. Everything shown is text.
const params = new URLSearchParams(location.search);
const query = (params.get("q") || "").trim();
const input = document.getElementById("q");
const status = document.getElementById("status");
const list = document.getElementById("results");
if (input && status && list) {
  input.value = query;
  status.textContent = query ? "Searching\u2026" : "";
  if (query) { run(); }
}

async function run() {
  try {
    // the index is one shard a month (see newsletter/sitesearch.py): the newest is loaded, the rest merged
    const base = new URL(list.dataset.root + "pagefind/", location.href);
    const shards = await (await fetch(new URL("shards.json", base))).json();
    const pagefind = await import(new URL(shards[0] + "/pagefind.js", base).href);
    await pagefind.options({ basePath: new URL(shards[0] + "/", base).pathname });
    for (const shard of shards.slice(1)) { await pagefind.mergeIndex(new URL(shard + "/", base).pathname); }
    const found = await pagefind.search(query);
    const results = await Promise.all(found.results.slice(0, 50).map((r) => r.data()));
    results.sort((a, b) => (b.meta.kind === "paper") - (a.meta.kind === "paper"));
    for (const r of results) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = r.url;
      a.textContent = r.meta.title || r.url;
      li.appendChild(a);
      const p = document.createElement("p");
      p.textContent = r.excerpt.replace(/<[^>]*>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&amp;/g, "&");
      li.appendChild(p);
      list.appendChild(li);
    }
    status.textContent = results.length
      ? `${found.results.length} result${found.results.length === 1 ? "" : "s"} for \u201c${query}\u201d.`
      : `No papers match \u201c${query}\u201d.`;
  } catch (e) {
    status.textContent = "Search is not available here; browse all issues instead.";
  }
}
