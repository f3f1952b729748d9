// Photos of a queued item (a report, an inspection result), uploaded one at a time to the
// photo endpoint; resolves to their SHA-256 hashes. Shared by the mobile app and the
// inspection tasks, online and when a queue is flushed after being offline.
(function (root) {
  "use strict";
  root.GridGovPhotos = {
    upload: function (item, url, csrfToken, fallbackMessage) {
      if (item.photo_hashes) return Promise.resolve(item.photo_hashes);
      var hashes = [];
      return (item.photos || []).reduce(function (chain, blob) {
        return chain.then(function () {
          var fd = new FormData();
          fd.append("photo", blob, blob.name || "photo.jpg");
          return fetch(url, {method: "POST", body: fd, credentials: "same-origin", headers: {"X-CSRFToken": csrfToken}})
            .then(function (r) {
              return r.json().then(function (b) {
                if (!r.ok) { var e = new Error(b.message || fallbackMessage || String(r.status)); e.status = r.status; throw e; }
                hashes.push(b.sha256);
              });
            });
        });
      }, Promise.resolve()).then(function () { return hashes; });
    }
  };
})(this);
