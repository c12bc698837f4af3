import { Link } from "../router.tsx"
import { PageHeader } from "../ui.tsx"

export const NotFound = ({ text = "There is nothing at this address." }: { readonly text?: string }) => (
  <>
    <PageHeader title="Not found" />
    <div className="card empty">
      <p>{text}</p>
      <Link to="/" className="button button-primary">
        Go to your accounts
      </Link>
    </div>
  </>
)
