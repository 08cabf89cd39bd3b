const apiUrl = process.env.NEXT_PUBLIC_API_URL || "http://127.0.0.1:4000";

/** Placeholder until the web app issue: shows where the API server lives. */
export default function Home() {
  return (
    <main style={{ maxWidth: 640, margin: "4rem auto", padding: "0 1rem", lineHeight: 1.5 }}>
      <h1>POTENTIA</h1>
      <p>A real-time collaborative block canvas. The editor arrives with the web app issue.</p>
      <p>
        API server: <a href={`${apiUrl}/health`}>{apiUrl}</a> (<a href={`${apiUrl}/ready`}>readiness</a>)
      </p>
    </main>
  );
}
