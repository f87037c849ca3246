// The certificate forms post application/x-www-form-urlencoded (the dashboard has no multipart parser):
// before a form is sent, this reads the chosen files into its fields, the PKCS#12 file as base64.
const dataUrlBase64 = (file) =>
  new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(',') + 1))
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(file)
  })

for (const form of document.querySelectorAll('form[data-certificate-form]')) {
  form.addEventListener('submit', async (event) => {
    const pkcs12 = form.querySelector('input[data-read="pkcs12"]').files
    const pem = form.querySelector('input[data-read="pem"]').files
    if (pkcs12.length === 0 && pem.length === 0) return
    event.preventDefault()
    if (pkcs12.length > 0) form.elements.pkcs12.value = await dataUrlBase64(pkcs12[0])
    if (pem.length > 0) {
      const texts = await Promise.all([...pem].map((file) => file.text()))
      form.elements.pem.value = [...texts, form.elements.pem.value].join('\n')
    }
    form.submit()
  })
}
