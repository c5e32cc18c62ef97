import { describe, expect, it } from "vitest";
import { MAX_PAGE_SIZE, nextPaging, normalizePaging, pageClause, pageOf, SortDirection } from "./paging.js";

describe("normalizePaging: the production node's rules", () => {
  it("defaults to newest first, 100 per page, no cursor", () => {
    expect(normalizePaging(undefined)).toEqual({ ascending: false, limit: 100, cursor: 0n });
    expect(normalizePaging({ direction: SortDirection.Unspecified, limit: 0, idCursor: 0n })).toEqual({
      ascending: false,
      limit: 100,
      cursor: 0n,
    });
  });

  it("is ascending only when asked", () => {
    expect(normalizePaging({ direction: SortDirection.Ascending }).ascending).toBe(true);
    expect(normalizePaging({ direction: SortDirection.Descending }).ascending).toBe(false);
  });

  it("takes limits 1..100 and replaces anything else by 100", () => {
    expect(normalizePaging({ limit: 1 }).limit).toBe(1);
    expect(normalizePaging({ limit: 100 }).limit).toBe(100);
    expect(normalizePaging({ limit: 101 }).limit).toBe(MAX_PAGE_SIZE);
    expect(normalizePaging({ limit: 5000 }).limit).toBe(MAX_PAGE_SIZE);
  });
});

describe("pages and cursors", () => {
  const ids = Array.from({ length: 25 }, (_, i) => BigInt(i * 2 + 1)); // 1, 3, ..., 49

  it("ascending from 0 starts at the oldest; the cursor is exclusive", () => {
    expect(pageOf(ids, { ascending: true, limit: 3, cursor: 0n })).toEqual([1n, 3n, 5n]);
    expect(pageOf(ids, { ascending: true, limit: 3, cursor: 5n })).toEqual([7n, 9n, 11n]);
    expect(pageOf(ids, { ascending: true, limit: 3, cursor: 6n })).toEqual([7n, 9n, 11n]);
  });

  it("descending from 0 starts at the newest; the cursor is exclusive", () => {
    expect(pageOf(ids, { ascending: false, limit: 3, cursor: 0n })).toEqual([49n, 47n, 45n]);
    expect(pageOf(ids, { ascending: false, limit: 3, cursor: 45n })).toEqual([43n, 41n, 39n]);
  });

  it("the next cursor is the last id of a full page, 0 after a partial one", () => {
    const page = { ascending: true, limit: 10, cursor: 0n };
    expect(nextPaging(page, pageOf(ids, page))).toEqual({
      direction: SortDirection.Ascending,
      limit: 10,
      idCursor: 19n,
    });
    const last = { ascending: true, limit: 10, cursor: 39n };
    expect(nextPaging(last, pageOf(ids, last))).toEqual({
      direction: SortDirection.Ascending,
      limit: 10,
      idCursor: 0n,
    });
    const desc = { ascending: false, limit: 10, cursor: 0n };
    expect(nextPaging(desc, pageOf(ids, desc)).direction).toBe(SortDirection.Descending);
  });

  it("following next cursors visits every id once, in order, both ways", () => {
    for (const ascending of [true, false]) {
      for (const limit of [1, 4, 25, 100]) {
        const seen: bigint[] = [];
        let cursor = 0n;
        for (let guard = 0; guard < 100; guard++) {
          const page = { ascending, limit, cursor };
          const got = pageOf(ids, page);
          seen.push(...got);
          cursor = nextPaging(page, got).idCursor;
          if (cursor === 0n) break;
        }
        const expected = ascending ? ids : [...ids].reverse();
        expect(seen, `ascending=${ascending} limit=${limit}`).toEqual(expected);
      }
    }
  });

  it("pageClause says the same in SQL", () => {
    expect(pageClause({ ascending: true, limit: 7, cursor: 0n })).toEqual({
      sql: "order by id asc limit $2",
      params: ["7"],
    });
    expect(pageClause({ ascending: true, limit: 7, cursor: 12n })).toEqual({
      sql: "and id > $2 order by id asc limit $3",
      params: ["12", "7"],
    });
    expect(pageClause({ ascending: false, limit: 7, cursor: 12n })).toEqual({
      sql: "and id < $2 order by id desc limit $3",
      params: ["12", "7"],
    });
  });
});
