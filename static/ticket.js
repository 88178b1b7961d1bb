// The ticket page's enhancements; everything works without them.
// - Canned replies: "Insert" fills the reply box here instead of reloading the page.
// - Presence: every 15 s, asks who else has the ticket open and whether the thread moved on
//   (the reply form's own check still refuses a crossed reply without this script).
(() => {
  const reply = document.getElementById('reply-text');
  const cannedForm = document.getElementById('canned-form');
  if (cannedForm && reply) {
    cannedForm.addEventListener('submit', (event) => {
      const chosen = document.getElementById('canned-select').selectedOptions[0];
      if (!chosen) return;
      event.preventDefault();
      const text = chosen.dataset.text;
      reply.value = reply.value.trim() ? `${reply.value.trimEnd()}\n\n${text}` : text;
      reply.focus();
    });
  }

  const presence = document.getElementById('presence');
  if (!presence) return;
  const ticket = presence.dataset.ticket;
  const seenOnPage = Number(presence.dataset.newest);
  const poll = async () => {
    try {
      const answer = await fetch(`/tickets/${ticket}/presence`, { headers: { Accept: 'application/json' } });
      if (!answer.ok) return;
      const { others, newest_message: newest } = await answer.json();
      const words = [];
      if (others.length > 0) words.push(`Also viewing now: ${others.join(', ')}.`);
      if (newest > seenOnPage) words.push('A new message arrived on this ticket: reload to read it before replying.');
      if (presence.textContent !== words.join(' ')) presence.textContent = words.join(' ');
    } catch {
      // Offline for a moment: the next poll tries again.
    }
  };
  poll();
  setInterval(poll, 15000);
})();
