// Small behaviours only; pages work without JavaScript (no inline script: CSP).
document.addEventListener("DOMContentLoaded", function () {
  // Township filter change: clear the village so the pair stays consistent.
  var township = document.getElementById("id_township");
  var village = document.getElementById("id_village");
  if (township && village) {
    township.addEventListener("change", function () { village.value = ""; });
  }
});
