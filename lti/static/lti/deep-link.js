/* The deep-linking answer goes back to the LMS by itself (a static script: the pages allow no inline code). */
(function () {
  "use strict";
  var form = document.getElementById("lti-deep-link-return");
  if (form) form.submit();
})();
